# tests/registry/registry.mk: the container registry that `containerd-lite
# image pull` is tested against (issue 15; docs/registry-fixture.md):
# Debian's docker-registry on loopback over HTTPS with a per-run test CA, a
# token-protected instance, a plain-HTTP one and fault-injecting fronts,
# filled with skopeo from the reference images (registry.py).
#
#   make registry-test   the fixture proven against skopeo (test_registry.py)

.PHONY: registry-test
test: registry-test
registry-test: $(DEBIAN_IMAGE) $(BUSYBOX) | $(DEPS_STAMP)
	@echo "== registry-test"
	@B=$(B) python3 tests/registry/test_registry.py
