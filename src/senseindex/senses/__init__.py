"""What senseindex says about senses: search by example, k-NN labelling, sense induction,
active review and its queue, review files read back, `explain`."""
