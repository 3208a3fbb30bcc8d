"""Text in: reading corpus files, splitting sentences, part-of-speech tags and lemmas, the
word filter, WordNet's sense keys. Imports nothing else of senseindex but `errors`."""
