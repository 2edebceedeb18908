// Tests for KymoReport.
