"""Names of the staff groups created by migration (core.0002_staff_groups)."""

EDITORS = "编辑"
REVIEWERS = "审核员"
COORDINATORS = "心理咨询协调员"
GRID_WORKERS = "网格员"
