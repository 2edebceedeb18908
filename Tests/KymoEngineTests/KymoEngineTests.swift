// Tests for KymoEngine.
