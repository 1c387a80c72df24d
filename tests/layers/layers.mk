# The layers of docs/ARCHITECTURE.md, checked (includes, and the symbols the
# util/, state/ and planner/ objects link to): make check-layers.
.PHONY: check-layers
CHECKS += check-layers
check-layers: $(LIB_OBJ)
	@tests/layers/check.sh $(BUILD)
