"""Names of the staff groups created by migration (core.0002_staff_groups, and
service_requests.0004 for the request handlers)."""

EDITORS = "编辑"
REVIEWERS = "审核员"
COORDINATORS = "心理咨询协调员"
GRID_WORKERS = "网格员"
REQUEST_HANDLERS = "诉求办理人员"  # service_requests.0004_request_handlers_group
