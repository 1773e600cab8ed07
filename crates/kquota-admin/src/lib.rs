//! kquota-admin (skeleton; filled in by its issue).
