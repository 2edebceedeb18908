// KymoCore: what every Kymograph module shares and nothing above it may duplicate:
// XXH3 hashing and gzip (Codec/), bounds-checked little-endian encoding (Binary/),
// and the explicit counter-based random generator (Random/).
