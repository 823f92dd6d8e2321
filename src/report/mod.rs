//! Reports: the JSON model and its renderers (table, JSON, Markdown).
