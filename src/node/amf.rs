use napi_derive::napi;
#[napi]
pub fn probe() -> u32 {
    42
}
