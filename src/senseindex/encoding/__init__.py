"""Vectors from text: the contextual encoder (BERT-family models, one vector per word) and the
static GloVe vectors, with where their weights come from (`weights`)."""
