// KymoStore: placeholder until its issue lands.
