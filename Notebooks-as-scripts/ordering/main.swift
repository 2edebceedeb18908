// Study "ordering": placeholder until issue 8 lands.
print("study ordering: not written yet")
