// KymoEngine: placeholder until its issue lands.
