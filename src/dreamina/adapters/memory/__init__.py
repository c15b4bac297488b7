"""In-memory fakes of every port; they keep state in dicts and record calls."""
