// Tests for KymoRecorder.
