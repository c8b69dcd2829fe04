"""The index: built from documents, stored as memory-mapped arrays, updated, opened for a corpus."""
