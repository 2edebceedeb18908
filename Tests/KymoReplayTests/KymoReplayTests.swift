// Tests for KymoReplay.
