//! kquota-iam (skeleton; filled in by its issue).
