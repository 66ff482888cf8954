#[allow(unused_imports)]
use crate::common::Home;
