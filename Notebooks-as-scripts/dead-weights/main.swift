// Study "dead-weights": placeholder until issue 8 lands.
print("study dead-weights: not written yet")
