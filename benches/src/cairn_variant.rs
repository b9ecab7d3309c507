//! The Cairn configurations a benchmark can run, by target name: `cairn`
//! (full-precision walk), `cairn-int8` and `cairn-int4` (the walk over
//! scalar codes, rescored in full precision).

use cairn_engine::{ScalarQuantization, ScalarType};

/// Every Cairn target name.
pub const CAIRN_TARGETS: &[&str] = &["cairn", "cairn-int8", "cairn-int4"];

/// The quantization of Cairn target `name` (`Some(None)` for `cairn`), or
/// `None` when `name` is not a Cairn target.
pub fn quantization(name: &str) -> Option<Option<ScalarQuantization>> {
    match name {
        "cairn" => Some(None),
        "cairn-int8" => Some(Some(ScalarQuantization::of(ScalarType::Int8))),
        "cairn-int4" => Some(Some(ScalarQuantization::of(ScalarType::Int4))),
        _ => None,
    }
}
