// Tests for KymoQuery.
