// Tests for KymoSketches.
