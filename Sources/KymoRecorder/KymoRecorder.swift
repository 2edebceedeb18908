// KymoRecorder: placeholder until its issue lands.
