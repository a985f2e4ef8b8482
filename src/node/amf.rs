//! AMF <-> JS conversion and the AMF functions of `require('node-rtmpapi').amf`
//! (node-amfutils' names). The mapping (ORIGINAL-API.md): numbers, strings, booleans,
//! null and undefined as themselves; objects and ECMA arrays as plain objects; typed
//! objects with `__className__`; strict arrays as Arrays with a non-enumerable
//! `sarray: true`; dates as ms numbers.

use std::ffi::CString;
use std::ptr;

use bytes::{BufMut, BytesMut};
use napi::bindgen_prelude::{Buffer, FromNapiValue, ToNapiValue};
use napi::{sys, Env};
use napi_derive::napi;

use crate::proto::amf::amf0::{self, Amf0Value};
use crate::proto::amf::amf3::{self, Amf3Value};
use crate::proto::amf::{AmfError, DecodeOne, MAX_NESTING_DEPTH};
use crate::proto::command::{self, Command};
use crate::proto::shared_object::{self, SharedObjectMessage, SoEvent};

/// An AMF decode error as a JS error (code ERR_RTMP_AMF, see `js_error`).
fn amf_error(e: AmfError) -> napi::Error {
    napi::Error::new(
        napi::Status::GenericFailure,
        format!("ERR_RTMP_AMF: amf: {e}"),
    )
}

fn type_error(message: impl Into<String>) -> napi::Error {
    napi::Error::new(
        napi::Status::InvalidArg,
        format!("ERR_INVALID_ARG_VALUE: {}", message.into()),
    )
}

fn check(status: sys::napi_status, what: &str) -> napi::Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(napi::Error::from_reason(format!(
            "napi call failed: {what}"
        )))
    }
}

/// A property name and its JS value.
type Entry = (String, sys::napi_value);

/// Raw napi helpers over one env, used on the JS thread only.
#[derive(Clone, Copy)]
struct Js(sys::napi_env);

impl Js {
    fn object(self) -> napi::Result<sys::napi_value> {
        let mut out = ptr::null_mut();
        check(
            unsafe { sys::napi_create_object(self.0, &mut out) },
            "create object",
        )?;
        Ok(out)
    }

    fn array(self, len: usize) -> napi::Result<sys::napi_value> {
        let mut out = ptr::null_mut();
        check(
            unsafe { sys::napi_create_array_with_length(self.0, len, &mut out) },
            "create array",
        )?;
        Ok(out)
    }

    fn set(self, obj: sys::napi_value, key: &str, value: sys::napi_value) -> napi::Result<()> {
        let key = unsafe { String::to_napi_value(self.0, key.to_owned())? };
        check(
            unsafe { sys::napi_set_property(self.0, obj, key, value) },
            "set property",
        )
    }

    /// An Array of converted values.
    fn list(
        self,
        items: impl ExactSizeIterator<Item = napi::Result<sys::napi_value>>,
    ) -> napi::Result<sys::napi_value> {
        let arr = self.array(items.len())?;
        for (i, v) in items.enumerate() {
            self.set_index(arr, i as u32, v?)?;
        }
        Ok(arr)
    }

    fn set_index(self, arr: sys::napi_value, i: u32, value: sys::napi_value) -> napi::Result<()> {
        check(
            unsafe { sys::napi_set_element(self.0, arr, i, value) },
            "set element",
        )
    }

    /// Marks an array as a strict array: a non-enumerable `sarray: true`.
    fn mark_strict(self, arr: sys::napi_value) -> napi::Result<()> {
        let value = unsafe { bool::to_napi_value(self.0, true)? };
        let name = CString::new("sarray").map_err(|_| napi::Error::from_reason("name"))?;
        let desc = sys::napi_property_descriptor {
            utf8name: name.as_ptr(),
            name: ptr::null_mut(),
            method: None,
            getter: None,
            setter: None,
            value,
            attributes: sys::PropertyAttributes::default,
            data: ptr::null_mut(),
        };
        check(
            unsafe { sys::napi_define_properties(self.0, arr, 1, &desc) },
            "define sarray",
        )
    }

    fn type_of(self, v: sys::napi_value) -> napi::Result<sys::napi_valuetype> {
        let mut t = 0;
        check(unsafe { sys::napi_typeof(self.0, v, &mut t) }, "typeof")?;
        Ok(t)
    }

    fn is(
        self,
        v: sys::napi_value,
        f: unsafe fn(sys::napi_env, sys::napi_value, *mut bool) -> sys::napi_status,
    ) -> napi::Result<bool> {
        let mut out = false;
        check(unsafe { f(self.0, v, &mut out) }, "type check")?;
        Ok(out)
    }

    fn get(self, obj: sys::napi_value, key: sys::napi_value) -> napi::Result<sys::napi_value> {
        let mut out = ptr::null_mut();
        check(
            unsafe { sys::napi_get_property(self.0, obj, key, &mut out) },
            "get property",
        )?;
        Ok(out)
    }

    fn get_named(self, obj: sys::napi_value, key: &str) -> napi::Result<sys::napi_value> {
        let key = unsafe { String::to_napi_value(self.0, key.to_owned())? };
        self.get(obj, key)
    }

    fn has_own(self, obj: sys::napi_value, key: &str) -> napi::Result<bool> {
        let key = unsafe { String::to_napi_value(self.0, key.to_owned())? };
        let mut out = false;
        check(
            unsafe { sys::napi_has_own_property(self.0, obj, key, &mut out) },
            "has own",
        )?;
        Ok(out)
    }

    fn keys(self, obj: sys::napi_value) -> napi::Result<Vec<(String, sys::napi_value)>> {
        let mut names = ptr::null_mut();
        check(
            unsafe { sys::napi_get_property_names(self.0, obj, &mut names) },
            "keys",
        )?;
        let len = self.length(names)?;
        let mut out = Vec::with_capacity(len as usize);
        for i in 0..len {
            let key = self.index(names, i)?;
            let name = unsafe { String::from_napi_value(self.0, key)? };
            out.push((name, key));
        }
        Ok(out)
    }

    /// A Date's ms since the epoch.
    fn date_ms(self, v: sys::napi_value) -> napi::Result<f64> {
        let mut ms = 0.0;
        check(
            unsafe { sys::napi_get_date_value(self.0, v, &mut ms) },
            "date value",
        )?;
        Ok(ms)
    }

    /// An object's enumerable properties other than functions, and its
    /// `__className__` (a typed object's class) apart.
    fn object_entries(self, obj: sys::napi_value) -> napi::Result<(Option<String>, Vec<Entry>)> {
        let mut class_name = None;
        let mut entries = Vec::new();
        for (name, key) in self.keys(obj)? {
            let value = self.get(obj, key)?;
            if name == "__className__" {
                class_name = Some(unsafe { String::from_napi_value(self.0, value)? });
            } else if self.type_of(value)? != sys::ValueType::napi_function {
                entries.push((name, value));
            }
        }
        Ok((class_name, entries))
    }

    fn length(self, arr: sys::napi_value) -> napi::Result<u32> {
        let mut len = 0;
        check(
            unsafe { sys::napi_get_array_length(self.0, arr, &mut len) },
            "length",
        )?;
        Ok(len)
    }

    fn index(self, arr: sys::napi_value, i: u32) -> napi::Result<sys::napi_value> {
        let mut out = ptr::null_mut();
        check(
            unsafe { sys::napi_get_element(self.0, arr, i, &mut out) },
            "get element",
        )?;
        Ok(out)
    }
}

/// Converts an AMF0 value to JS.
pub(crate) fn amf0_to_js(env: sys::napi_env, v: &Amf0Value) -> napi::Result<sys::napi_value> {
    let js = Js(env);
    unsafe {
        match v {
            Amf0Value::Number(n) | Amf0Value::Date { millis: n, .. } => f64::to_napi_value(env, *n),
            Amf0Value::Boolean(b) => bool::to_napi_value(env, *b),
            Amf0Value::String(s) | Amf0Value::XmlDocument(s) => {
                String::to_napi_value(env, s.clone())
            }
            Amf0Value::Null => {
                napi::bindgen_prelude::Null::to_napi_value(env, napi::bindgen_prelude::Null)
            }
            Amf0Value::Undefined | Amf0Value::Unsupported => <()>::to_napi_value(env, ()),
            Amf0Value::Object(props) | Amf0Value::EcmaArray(props) => {
                let obj = js.object()?;
                for (k, v) in props {
                    js.set(obj, k, amf0_to_js(env, v)?)?;
                }
                Ok(obj)
            }
            Amf0Value::TypedObject {
                class_name,
                properties,
            } => {
                let obj = js.object()?;
                js.set(
                    obj,
                    "__className__",
                    String::to_napi_value(env, class_name.clone())?,
                )?;
                for (k, v) in properties {
                    js.set(obj, k, amf0_to_js(env, v)?)?;
                }
                Ok(obj)
            }
            Amf0Value::StrictArray(items) => {
                let arr = js.array(items.len())?;
                for (i, v) in items.iter().enumerate() {
                    js.set_index(arr, i as u32, amf0_to_js(env, v)?)?;
                }
                js.mark_strict(arr)?;
                Ok(arr)
            }
            Amf0Value::Amf3(v) => amf3_to_js(env, v),
        }
    }
}

/// Converts an AMF3 value to JS (integers become Numbers, ByteArrays Buffers).
pub(crate) fn amf3_to_js(env: sys::napi_env, v: &Amf3Value) -> napi::Result<sys::napi_value> {
    let js = Js(env);
    unsafe {
        match v {
            Amf3Value::Undefined => <()>::to_napi_value(env, ()),
            Amf3Value::Null => {
                napi::bindgen_prelude::Null::to_napi_value(env, napi::bindgen_prelude::Null)
            }
            Amf3Value::Boolean(b) => bool::to_napi_value(env, *b),
            Amf3Value::Integer(i) => f64::to_napi_value(env, f64::from(*i)),
            Amf3Value::Double(d) | Amf3Value::Date(d) => f64::to_napi_value(env, *d),
            Amf3Value::String(s) | Amf3Value::XmlDocument(s) | Amf3Value::Xml(s) => {
                String::to_napi_value(env, s.clone())
            }
            Amf3Value::ByteArray(b) => Buffer::to_napi_value(env, b.clone().into()),
            Amf3Value::Array { assoc, dense } if assoc.is_empty() => {
                let arr = js.array(dense.len())?;
                for (i, v) in dense.iter().enumerate() {
                    js.set_index(arr, i as u32, amf3_to_js(env, v)?)?;
                }
                js.mark_strict(arr)?;
                Ok(arr)
            }
            Amf3Value::Array { assoc, dense } => {
                let obj = js.object()?;
                for (i, v) in dense.iter().enumerate() {
                    js.set(obj, &i.to_string(), amf3_to_js(env, v)?)?;
                }
                for (k, v) in assoc {
                    js.set(obj, k, amf3_to_js(env, v)?)?;
                }
                Ok(obj)
            }
            Amf3Value::VectorInt { items, .. } => {
                js.list(items.iter().map(|v| f64::to_napi_value(env, f64::from(*v))))
            }
            Amf3Value::VectorUint { items, .. } => {
                js.list(items.iter().map(|v| f64::to_napi_value(env, f64::from(*v))))
            }
            Amf3Value::VectorDouble { items, .. } => {
                js.list(items.iter().map(|v| f64::to_napi_value(env, *v)))
            }
            Amf3Value::VectorObject { items, .. } => {
                js.list(items.iter().map(|v| amf3_to_js(env, v)))
            }
            // A Dictionary's keys may be objects: it becomes an Array of [key, value].
            Amf3Value::Dictionary { entries, .. } => js.list(
                entries
                    .iter()
                    .map(|(k, v)| js.list([amf3_to_js(env, k), amf3_to_js(env, v)].into_iter())),
            ),
            Amf3Value::Object {
                class_name,
                properties,
            } => {
                let obj = js.object()?;
                if !class_name.is_empty() {
                    js.set(
                        obj,
                        "__className__",
                        String::to_napi_value(env, class_name.clone())?,
                    )?;
                }
                for (k, v) in properties {
                    js.set(obj, k, amf3_to_js(env, v)?)?;
                }
                Ok(obj)
            }
        }
    }
}

/// Refuses values nested deeper than the decoders accept (or cyclic ones).
fn check_depth(depth: usize) -> napi::Result<()> {
    if depth > MAX_NESTING_DEPTH {
        return Err(type_error(format!(
            "value nested deeper than {MAX_NESTING_DEPTH} (or cyclic) cannot be AMF-encoded"
        )));
    }
    Ok(())
}

/// Converts a JS value to AMF0; TypeError for values AMF0 cannot carry.
pub(crate) fn js_to_amf0(
    env: sys::napi_env,
    v: sys::napi_value,
    depth: usize,
) -> napi::Result<Amf0Value> {
    let js = Js(env);
    check_depth(depth)?;
    Ok(match js.type_of(v)? {
        sys::ValueType::napi_undefined => Amf0Value::Undefined,
        sys::ValueType::napi_null => Amf0Value::Null,
        sys::ValueType::napi_boolean => {
            Amf0Value::Boolean(unsafe { bool::from_napi_value(env, v)? })
        }
        sys::ValueType::napi_number => Amf0Value::Number(unsafe { f64::from_napi_value(env, v)? }),
        sys::ValueType::napi_string => {
            Amf0Value::String(unsafe { String::from_napi_value(env, v)? })
        }
        sys::ValueType::napi_object => {
            if js.is(v, sys::napi_is_buffer)? || js.is(v, sys::napi_is_typedarray)? {
                return Err(type_error(
                    "Buffers and typed arrays cannot be AMF0-encoded",
                ));
            }
            if js.is(v, sys::napi_is_date)? {
                let ms = js.date_ms(v)?;
                return Ok(Amf0Value::Date {
                    millis: ms,
                    time_zone: 0,
                });
            }
            if js.is(v, sys::napi_is_array)? {
                let len = js.length(v)?;
                let strict = js.has_own(v, "sarray")?;
                if strict {
                    let items = (0..len)
                        .map(|i| js_to_amf0(env, js.index(v, i)?, depth + 1))
                        .collect::<napi::Result<Vec<_>>>()?;
                    return Ok(Amf0Value::StrictArray(items));
                }
                let mut props = Vec::with_capacity(len as usize);
                for (name, key) in js.keys(v)? {
                    props.push((name, js_to_amf0(env, js.get(v, key)?, depth + 1)?));
                }
                return Ok(Amf0Value::EcmaArray(props));
            }
            let (class_name, entries) = js.object_entries(v)?;
            let props = entries
                .into_iter()
                .map(|(name, value)| Ok((name, js_to_amf0(env, value, depth + 1)?)))
                .collect::<napi::Result<Vec<_>>>()?;
            match class_name {
                Some(class_name) => Amf0Value::TypedObject {
                    class_name,
                    properties: props,
                },
                None => Amf0Value::Object(props),
            }
        }
        _ => {
            return Err(type_error(
                "functions, symbols and bigints cannot be AMF-encoded",
            ))
        }
    })
}

/// Converts a JS value to AMF3 (§3): integers within 29 bits as Integer, other numbers
/// as Double, Arrays as dense Arrays, Buffers as ByteArrays, Dates as Dates, objects as
/// dynamic objects (typed by `__className__`); TypeError for what AMF3 cannot carry.
pub(crate) fn js_to_amf3(
    env: sys::napi_env,
    v: sys::napi_value,
    depth: usize,
) -> napi::Result<Amf3Value> {
    use crate::proto::amf::amf3::{INTEGER_MAX, INTEGER_MIN};
    let js = Js(env);
    check_depth(depth)?;
    Ok(match js.type_of(v)? {
        sys::ValueType::napi_undefined => Amf3Value::Undefined,
        sys::ValueType::napi_null => Amf3Value::Null,
        sys::ValueType::napi_boolean => {
            Amf3Value::Boolean(unsafe { bool::from_napi_value(env, v)? })
        }
        sys::ValueType::napi_number => {
            let n = unsafe { f64::from_napi_value(env, v)? };
            if n.fract() == 0.0
                && n >= f64::from(INTEGER_MIN)
                && n <= f64::from(INTEGER_MAX)
                && !(n == 0.0 && n.is_sign_negative())
            {
                Amf3Value::Integer(n as i32)
            } else {
                Amf3Value::Double(n)
            }
        }
        sys::ValueType::napi_string => {
            Amf3Value::String(unsafe { String::from_napi_value(env, v)? })
        }
        sys::ValueType::napi_object => {
            if js.is(v, sys::napi_is_buffer)? {
                let b = unsafe { Buffer::from_napi_value(env, v)? };
                return Ok(Amf3Value::ByteArray(b.to_vec()));
            }
            if js.is(v, sys::napi_is_date)? {
                let ms = js.date_ms(v)?;
                return Ok(Amf3Value::Date(ms));
            }
            if js.is(v, sys::napi_is_array)? {
                let dense = (0..js.length(v)?)
                    .map(|i| js_to_amf3(env, js.index(v, i)?, depth + 1))
                    .collect::<napi::Result<Vec<_>>>()?;
                return Ok(Amf3Value::Array {
                    assoc: Vec::new(),
                    dense,
                });
            }
            let (class_name, entries) = js.object_entries(v)?;
            let properties = entries
                .into_iter()
                .map(|(name, value)| Ok((name, js_to_amf3(env, value, depth + 1)?)))
                .collect::<napi::Result<Vec<_>>>()?;
            Amf3Value::Object {
                class_name: class_name.unwrap_or_default(),
                properties,
            }
        }
        _ => {
            return Err(type_error(
                "functions, symbols and bigints cannot be AMF-encoded",
            ))
        }
    })
}

/// Converts a command to `{ cmd, transId, cmdObj, ...named fields }`.
pub(crate) fn command_to_js(env: sys::napi_env, cmd: &Command) -> napi::Result<sys::napi_value> {
    let js = Js(env);
    let obj = js.object()?;
    js.set(obj, "cmd", unsafe {
        String::to_napi_value(env, cmd.name.clone())?
    })?;
    for (name, v) in &cmd.fields {
        js.set(obj, name, amf0_to_js(env, v)?)?;
    }
    Ok(obj)
}

/// Reads `{ cmd, transId, cmdObj, ... }` into a command.
fn js_to_command(env: sys::napi_env, obj: sys::napi_value) -> napi::Result<Command> {
    let js = Js(env);
    if js.type_of(obj)? != sys::ValueType::napi_object {
        return Err(type_error(
            "a command must be an object { cmd, transId, cmdObj, ... }",
        ));
    }
    let name_value = js.get_named(obj, "cmd")?;
    if js.type_of(name_value)? != sys::ValueType::napi_string {
        return Err(type_error("command.cmd must be a string"));
    }
    let name = unsafe { String::from_napi_value(env, name_value)? };
    let names: Vec<&'static str> = match command::field_names(&name) {
        Some(n) => n.iter().copied().chain(["extra"]).collect(),
        None => vec!["transId", "cmdObj", "args"],
    };
    let mut fields = Vec::new();
    for field in names {
        if !js.has_own(obj, field)? {
            continue;
        }
        let mut value = js_to_amf0(env, js.get_named(obj, field)?, 0)?;
        // `args` of unknown commands and `extra` are lists of further values.
        if (field == "args" && command::field_names(&name).is_none()) || field == "extra" {
            value = match value {
                Amf0Value::StrictArray(items) => Amf0Value::StrictArray(items),
                Amf0Value::EcmaArray(props) => {
                    Amf0Value::StrictArray(props.into_iter().map(|(_, v)| v).collect())
                }
                other => Amf0Value::StrictArray(vec![other]),
            };
        }
        fields.push((field, value));
    }
    Ok(Command { name, fields })
}

/// A raw JS value passed through a `#[napi]` function unconverted.
pub struct JsAny(sys::napi_value);

impl FromNapiValue for JsAny {
    unsafe fn from_napi_value(_env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        Ok(Self(v))
    }
}

impl ToNapiValue for JsAny {
    unsafe fn to_napi_value(_env: sys::napi_env, v: Self) -> napi::Result<sys::napi_value> {
        Ok(v.0)
    }
}

impl napi::bindgen_prelude::TypeName for JsAny {
    fn type_name() -> &'static str {
        "unknown"
    }
    fn value_type() -> napi::ValueType {
        napi::ValueType::Unknown
    }
}

impl napi::bindgen_prelude::ValidateNapiValue for JsAny {}

fn to_buffer(out: BytesMut) -> Buffer {
    out.to_vec().into()
}

/// Encodes values as AMF0, one after another.
#[napi(
    catch_unwind,
    ts_args_type = "values: unknown[]",
    ts_return_type = "Buffer"
)]
pub fn amf0_encode(env: Env, values: JsAny) -> napi::Result<Buffer> {
    encode_values(env, values, "amf0Encode", js_to_amf0, amf0::encode)
}

/// Converts each element of a JS array and encodes them one after another.
fn encode_values<V>(
    env: Env,
    values: JsAny,
    name: &str,
    convert: fn(sys::napi_env, sys::napi_value, usize) -> napi::Result<V>,
    encode: fn(&V, &mut BytesMut),
) -> napi::Result<Buffer> {
    let js = Js(env.raw());
    if !js.is(values.0, sys::napi_is_array)? {
        return Err(type_error(format!("{name} expects an array of values")));
    }
    let mut out = BytesMut::new();
    for i in 0..js.length(values.0)? {
        encode(&convert(env.raw(), js.index(values.0, i)?, 0)?, &mut out);
    }
    Ok(to_buffer(out))
}

/// Converts one JS value and encodes it.
fn encode_value<V>(
    env: Env,
    value: JsAny,
    convert: fn(sys::napi_env, sys::napi_value, usize) -> napi::Result<V>,
    encode: fn(&V, &mut BytesMut),
) -> napi::Result<Buffer> {
    let mut out = BytesMut::new();
    encode(&convert(env.raw(), value.0, 0)?, &mut out);
    Ok(to_buffer(out))
}

/// Decodes one value: `{ len, value }`.
fn decode_value<V>(
    env: Env,
    buf: &[u8],
    decode: DecodeOne<V>,
    to_js: fn(sys::napi_env, &V) -> napi::Result<sys::napi_value>,
) -> napi::Result<JsAny> {
    let (value, len) = decode(buf).map_err(amf_error)?;
    let js = Js(env.raw());
    let obj = js.object()?;
    js.set(obj, "len", unsafe {
        f64::to_napi_value(env.raw(), len as f64)?
    })?;
    js.set(obj, "value", to_js(env.raw(), &value)?)?;
    Ok(JsAny(obj))
}

/// Encodes one value as AMF0.
#[napi(
    catch_unwind,
    ts_args_type = "value: unknown",
    ts_return_type = "Buffer"
)]
pub fn amf0_encode_one(env: Env, value: JsAny) -> napi::Result<Buffer> {
    encode_value(env, value, js_to_amf0, amf0::encode)
}

/// Decodes every AMF0 value of a buffer.
#[napi(catch_unwind, ts_return_type = "unknown[]")]
pub fn amf0_decode(env: Env, buf: &[u8]) -> napi::Result<JsAny> {
    let values = amf0::decode_all(buf).map_err(amf_error)?;
    list_to_js(env.raw(), &values)
}

fn list_to_js(env: sys::napi_env, values: &[Amf0Value]) -> napi::Result<JsAny> {
    let js = Js(env);
    let arr = js.array(values.len())?;
    for (i, v) in values.iter().enumerate() {
        js.set_index(arr, i as u32, amf0_to_js(env, v)?)?;
    }
    Ok(JsAny(arr))
}

/// Decodes the first AMF0 value of a buffer: `{ len, value }`.
#[napi(catch_unwind, ts_return_type = "{ len: number, value: unknown }")]
pub fn amf0_decode_one(env: Env, buf: &[u8]) -> napi::Result<JsAny> {
    decode_value(env, buf, amf0::decode_one, amf0_to_js)
}

/// Encodes a command `{ cmd, transId, cmdObj, ... }` as an AMF0 command payload.
#[napi(
    catch_unwind,
    ts_args_type = "cmd: Record<string, unknown>",
    ts_return_type = "Buffer"
)]
pub fn encode_amf0_cmd(env: Env, cmd: JsAny) -> napi::Result<Buffer> {
    encode_command_with(env, cmd, command::encode_amf0_command)
}

fn encode_command_with(
    env: Env,
    cmd: JsAny,
    encode: fn(&Command, &mut BytesMut),
) -> napi::Result<Buffer> {
    let cmd = js_to_command(env.raw(), cmd.0)?;
    let mut out = BytesMut::new();
    encode(&cmd, &mut out);
    Ok(to_buffer(out))
}

/// Encodes a command as an AMF3 command payload (format byte 0, then AMF0).
#[napi(
    catch_unwind,
    ts_args_type = "cmd: Record<string, unknown>",
    ts_return_type = "Buffer"
)]
pub fn encode_amf3_cmd(env: Env, cmd: JsAny) -> napi::Result<Buffer> {
    encode_command_with(env, cmd, command::encode_amf3_command)
}

/// Decodes an AMF0 command payload (message type 20).
#[napi(catch_unwind, ts_return_type = "Record<string, unknown>")]
pub fn decode_amf0_cmd(env: Env, buf: &[u8]) -> napi::Result<JsAny> {
    let cmd = command::decode_amf0_command(buf).map_err(amf_error)?;
    Ok(JsAny(command_to_js(env.raw(), &cmd)?))
}

/// Decodes an AMF3 command payload (message type 17).
#[napi(catch_unwind, ts_return_type = "Record<string, unknown>")]
pub fn decode_amf3_cmd(env: Env, buf: &[u8]) -> napi::Result<JsAny> {
    let cmd = command::decode_amf3_command(buf).map_err(amf_error)?;
    Ok(JsAny(command_to_js(env.raw(), &cmd)?))
}

fn data_to_js(env: sys::napi_env, values: &[Amf0Value]) -> napi::Result<JsAny> {
    let js = Js(env);
    let obj = js.object()?;
    for (i, name) in ["cmd", "event", "parms"].into_iter().enumerate() {
        if let Some(v) = values.get(i) {
            js.set(obj, name, amf0_to_js(env, v)?)?;
        }
    }
    js.set(obj, "dec", list_to_js(env, values)?.0)?;
    Ok(JsAny(obj))
}

/// Decodes an AMF0 data payload (type 18): `{ cmd, event, parms, dec }`.
#[napi(
    catch_unwind,
    ts_return_type = "{ cmd: unknown, event: unknown, parms: unknown, dec: unknown[] }"
)]
pub fn decode_amf0_data(env: Env, buf: &[u8]) -> napi::Result<JsAny> {
    let values = command::decode_data(buf).map_err(amf_error)?;
    data_to_js(env.raw(), &values)
}

/// Decodes an AMF3 data payload (type 15): format byte, then AMF0 with switches.
#[napi(
    catch_unwind,
    ts_return_type = "{ cmd: unknown, event: unknown, parms: unknown, dec: unknown[] }"
)]
pub fn decode_amf3_data(env: Env, buf: &[u8]) -> napi::Result<JsAny> {
    let values = command::decode_amf3_data(buf).map_err(amf_error)?;
    data_to_js(env.raw(), &values)
}

/// Encodes values as AMF3, one after another.
#[napi(
    catch_unwind,
    ts_args_type = "values: unknown[]",
    ts_return_type = "Buffer"
)]
pub fn amf3_encode(env: Env, values: JsAny) -> napi::Result<Buffer> {
    encode_values(env, values, "amf3Encode", js_to_amf3, amf3::encode)
}

/// Encodes one value as AMF3.
#[napi(
    catch_unwind,
    ts_args_type = "value: unknown",
    ts_return_type = "Buffer"
)]
pub fn amf3_encode_one(env: Env, value: JsAny) -> napi::Result<Buffer> {
    encode_value(env, value, js_to_amf3, amf3::encode)
}

/// Decodes every AMF3 value of a buffer (one reference context).
#[napi(catch_unwind, ts_return_type = "unknown[]")]
pub fn amf3_decode(env: Env, buf: &[u8]) -> napi::Result<JsAny> {
    let values = amf3::decode_all(buf).map_err(amf_error)?;
    let js = Js(env.raw());
    Ok(JsAny(
        js.list(values.iter().map(|v| amf3_to_js(env.raw(), v)))?,
    ))
}

/// Decodes the first AMF3 value of a buffer: `{ len, value }`.
#[napi(catch_unwind, ts_return_type = "{ len: number, value: unknown }")]
pub fn amf3_decode_one(env: Env, buf: &[u8]) -> napi::Result<JsAny> {
    decode_value(env, buf, amf3::decode_one, amf3_to_js)
}

/// Decodes a shared object message (type 19, or 16 with its format byte):
/// `{ name, version, persistent, events: [{ type, typeText, name?, data?, values? }] }`.
#[napi(
    catch_unwind,
    ts_return_type = "{ name: string, version: number, persistent: boolean, events: Array<{ type: number, typeText: string, name?: string, data?: Record<string, unknown>, values?: unknown[] }> }"
)]
pub fn decode_shared_object(env: Env, type_id: u32, buf: &[u8]) -> napi::Result<JsAny> {
    let msg = shared_object::decode_typed(u8::try_from(type_id).unwrap_or(u8::MAX), buf)
        .map_err(amf_error)?;
    let raw = env.raw();
    let js = Js(raw);
    let obj = js.object()?;
    unsafe {
        js.set(obj, "name", String::to_napi_value(raw, msg.name.clone())?)?;
        js.set(
            obj,
            "version",
            f64::to_napi_value(raw, f64::from(msg.version))?,
        )?;
        js.set(obj, "persistent", bool::to_napi_value(raw, msg.persistent)?)?;
    }
    let events = js.list(msg.events.iter().map(|e| {
        let o = js.object()?;
        unsafe {
            js.set(o, "type", f64::to_napi_value(raw, f64::from(e.event_type))?)?;
            js.set(
                o,
                "typeText",
                String::to_napi_value(raw, shared_object::event_name(e.event_type).to_string())?,
            )?;
            if let Some(name) = &e.name {
                js.set(o, "name", String::to_napi_value(raw, name.clone())?)?;
            }
        }
        if !e.pairs.is_empty() {
            js.set(
                o,
                "data",
                amf0_to_js(raw, &Amf0Value::Object(e.pairs.clone()))?,
            )?;
        }
        if !e.values.is_empty() {
            js.set(
                o,
                "values",
                js.list(e.values.iter().map(|v| amf0_to_js(raw, v)))?,
            )?;
        }
        Ok(o)
    }))?;
    js.set(obj, "events", events)?;
    Ok(JsAny(obj))
}

/// Encodes a shared object message payload for type 19 (AMF0), or 16 with `amf3`
/// (a leading format byte): `{ name, version, persistent, events: [{ type, name?,
/// data?, values? }] }`.
#[napi(
    catch_unwind,
    ts_args_type = "msg: Record<string, unknown>, amf3?: boolean",
    ts_return_type = "Buffer"
)]
pub fn encode_shared_object(env: Env, msg: JsAny, amf3: Option<bool>) -> napi::Result<Buffer> {
    let raw = env.raw();
    let value = js_to_amf0(raw, msg.0, 0)?;
    let field = |name: &str| value.get(name).cloned();
    let name = field("name")
        .and_then(|v| v.as_str().map(str::to_string))
        .ok_or_else(|| type_error("msg.name must be a string"))?;
    let mut so = SharedObjectMessage {
        name,
        version: field("version").and_then(|v| v.as_f64()).unwrap_or(0.0) as u32,
        persistent: matches!(field("persistent"), Some(Amf0Value::Boolean(true))),
        events: Vec::new(),
    };
    let events = match field("events") {
        Some(Amf0Value::EcmaArray(items)) => items.into_iter().map(|(_, v)| v).collect(),
        Some(Amf0Value::StrictArray(items)) => items,
        None => Vec::new(),
        Some(_) => return Err(type_error("msg.events must be an array")),
    };
    for e in events {
        let event_type =
            e.get("type")
                .and_then(Amf0Value::as_f64)
                .ok_or_else(|| type_error("each event needs a numeric type"))? as u8;
        let pairs = match e.get("data") {
            Some(Amf0Value::Object(p)) => p.clone(),
            _ => Vec::new(),
        };
        let values = match e.get("values") {
            Some(Amf0Value::EcmaArray(items)) => items.iter().map(|(_, v)| v.clone()).collect(),
            Some(Amf0Value::StrictArray(items)) => items.clone(),
            _ => Vec::new(),
        };
        so.events.push(SoEvent {
            event_type,
            name: e
                .get("name")
                .and_then(Amf0Value::as_str)
                .map(str::to_string),
            pairs,
            values,
        });
    }
    let mut out = BytesMut::new();
    if amf3.unwrap_or(false) {
        out.put_u8(0);
    }
    shared_object::encode(&so, &mut out);
    Ok(to_buffer(out))
}
