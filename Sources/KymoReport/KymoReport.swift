// KymoReport: placeholder until its issue lands.
