// moto's server for the kquota-iam and kquota-cli tests (included with `#[path]`): the testkit
// starts it on a free 127.0.0.1 port under its watchdog, with MSK-style ARNs (account
// 111111111111), and stops it on drop.

#[allow(unused_imports)]
pub use kquota_testkit::MotoServer;
