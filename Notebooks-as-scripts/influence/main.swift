// Study "influence": placeholder until issue 8 lands.
print("study influence: not written yet")
