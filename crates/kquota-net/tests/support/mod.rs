pub mod fake_broker;
pub mod proxy;
