//! kquota-net (skeleton; filled in by its issue).
