"""Search and answer: ranking, filters, the extractive answer, its confidence, evaluation."""
