"""Text analysis: the analyzer, spelling variants, sentences, passages, abbreviations, spelling, spacing."""
