// KymoQuery: placeholder until its issue lands.
