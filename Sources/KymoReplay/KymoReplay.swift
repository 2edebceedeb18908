// KymoReplay: placeholder until its issue lands.
