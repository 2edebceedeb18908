// Study "explosion": placeholder until issue 8 lands.
print("study explosion: not written yet")
