// Tests for KymoStore.
