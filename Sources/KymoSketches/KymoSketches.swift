// KymoSketches: placeholder until its issue lands.
