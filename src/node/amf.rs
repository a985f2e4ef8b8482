//! AMF <-> JS conversion and the AMF functions of `require('node-rtmpapi').amf`
//! (node-amfutils' names). The mapping (ORIGINAL-API.md): numbers, strings, booleans,
//! null and undefined as themselves; objects and ECMA arrays as plain objects; typed
//! objects with `__className__`; strict arrays as Arrays with a non-enumerable
//! `sarray: true`; dates as ms numbers; AMF3 Dictionaries (AMF 3 §3.16) as `Map`s with a
//! non-enumerable `weakKeys` flag. Written with napi-rs 3's safe value API only: no
//! `unsafe` in this file.

use std::cell::OnceCell;

use bytes::{BufMut, BytesMut};
use napi::bindgen_prelude::{
    Array, Buffer, BufferSlice, FromNapiValue, Function, JsObjectValue, Null, Object, ToNapiValue,
    Unknown,
};
use napi::{Env, JsDate, JsValue, Property, PropertyAttributes, ValueType};
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

/// The bytes of a payload to decode; an empty one holds no value and is an error.
fn non_empty(buf: &[u8]) -> napi::Result<&[u8]> {
    if buf.is_empty() {
        return Err(amf_error(AmfError::Empty));
    }
    Ok(buf)
}

/// A property name and its JS value.
type Entry<'e> = (String, Unknown<'e>);

/// The name of a Map's weak-keys flag (AMF 3 §3.16), a non-enumerable own property.
const WEAK_KEYS: &str = "weakKeys";

/// The JS side of one call: its env, and the global `Map` constructor and `Array.from`,
/// looked up the first time a Dictionary or an object needs them.
struct Js<'e> {
    env: &'e Env,
    map: OnceCell<Function<'e, Unknown<'e>, Unknown<'e>>>,
    array_from: OnceCell<Function<'e, Unknown<'e>, Array<'e>>>,
}

impl<'e> Js<'e> {
    fn new(env: &'e Env) -> Self {
        Self {
            env,
            map: OnceCell::new(),
            array_from: OnceCell::new(),
        }
    }

    fn value<T: ToNapiValue>(&self, v: T) -> napi::Result<Unknown<'e>> {
        v.into_unknown(self.env)
    }

    fn object(&self) -> napi::Result<Object<'e>> {
        Object::new(self.env)
    }

    /// Sets `obj[key]`; the key is a JS string, so any key works (even one with a NUL).
    fn set(&self, obj: &mut Object<'e>, key: &str, value: Unknown<'e>) -> napi::Result<()> {
        obj.set_property(self.value(key)?, value)
    }

    /// An Array of converted values.
    fn list(
        &self,
        items: impl ExactSizeIterator<Item = napi::Result<Unknown<'e>>>,
    ) -> napi::Result<Array<'e>> {
        let mut arr = self.env.create_array(items.len() as u32)?;
        for (i, v) in items.enumerate() {
            arr.set(i as u32, v?)?;
        }
        Ok(arr)
    }

    /// A non-enumerable boolean property (`sarray` read-only, `weakKeys` writable).
    fn flag<O: JsObjectValue<'e>>(
        &self,
        obj: &mut O,
        name: &str,
        value: bool,
        attributes: PropertyAttributes,
    ) -> napi::Result<()> {
        obj.define_properties(&[Property::new()
            .with_utf8_name(name)?
            .with_value(&self.value(value)?)
            .with_property_attributes(attributes)])
    }

    /// A strict array: an Array with a non-enumerable, read-only `sarray: true`.
    fn strict(
        &self,
        items: impl ExactSizeIterator<Item = napi::Result<Unknown<'e>>>,
    ) -> napi::Result<Unknown<'e>> {
        let mut arr = self.list(items)?;
        self.flag(&mut arr, "sarray", true, PropertyAttributes::Default)?;
        Ok(arr.to_unknown())
    }

    fn global_map(&self) -> napi::Result<&Function<'e, Unknown<'e>, Unknown<'e>>> {
        if self.map.get().is_none() {
            let map = self.env.get_global()?.get_named_property("Map")?;
            let _ = self.map.set(map);
        }
        Ok(self.map.get().expect("set above"))
    }

    fn global_array_from(&self) -> napi::Result<&Function<'e, Unknown<'e>, Array<'e>>> {
        if self.array_from.get().is_none() {
            // `Array` is a function: read it as the object it also is.
            let array: Object<'_> = self
                .env
                .get_global()?
                .get_named_property_unchecked("Array")?;
            let _ = self.array_from.set(array.get_named_property("from")?);
        }
        Ok(self.array_from.get().expect("set above"))
    }

    /// Whether `v` (an object) is a `Map`.
    fn is_map(&self, v: Unknown<'e>) -> napi::Result<bool> {
        v.instanceof(*self.global_map()?)
    }

    /// An own property of a plain boolean `true`.
    fn own_true(&self, obj: &Object<'e>, name: &str) -> napi::Result<bool> {
        if !obj.has_own_property(name)? {
            return Ok(false);
        }
        let v: Unknown<'_> = obj.get_named_property_unchecked(name)?;
        Ok(v.get_type()? == ValueType::Boolean && bool::from_unknown(v)?)
    }

    /// An object's own enumerable string keys and their values.
    fn keys(&self, obj: &Object<'e>) -> napi::Result<Vec<Entry<'e>>> {
        let names = obj.get_property_names()?;
        let len = names.get_array_length()?;
        let mut out = Vec::with_capacity(len as usize);
        for i in 0..len {
            let key: Unknown<'_> = names.get_element(i)?;
            let value = obj.get_property_unchecked(key)?;
            out.push((String::from_unknown(key)?, value));
        }
        Ok(out)
    }

    /// An object's enumerable properties other than functions, and its
    /// `__className__` (a typed object's class) apart.
    fn object_entries(&self, obj: &Object<'e>) -> napi::Result<(Option<String>, Vec<Entry<'e>>)> {
        let mut class_name = None;
        let mut entries = Vec::new();
        for (name, value) in self.keys(obj)? {
            if name == "__className__" {
                class_name = Some(String::from_unknown(value)?);
            } else if value.get_type()? != ValueType::Function {
                entries.push((name, value));
            }
        }
        Ok((class_name, entries))
    }

    /// A plain object of converted properties, typed by `class_name` if given.
    fn record<'a>(
        &self,
        class_name: Option<&str>,
        props: impl Iterator<Item = (&'a str, napi::Result<Unknown<'e>>)>,
    ) -> napi::Result<Unknown<'e>> {
        let mut obj = self.object()?;
        if let Some(name) = class_name {
            self.set(&mut obj, "__className__", self.value(name)?)?;
        }
        for (k, v) in props {
            self.set(&mut obj, k, v?)?;
        }
        Ok(obj.to_unknown())
    }

    /// The elements of an Array.
    fn elements(&self, arr: &Object<'e>) -> napi::Result<Vec<Unknown<'e>>> {
        (0..arr.get_array_length()?)
            .map(|i| arr.get_element(i))
            .collect()
    }
}

/// Converts an AMF0 value to JS.
fn amf0_to_js<'e>(js: &Js<'e>, v: &Amf0Value) -> napi::Result<Unknown<'e>> {
    match v {
        Amf0Value::Number(n) | Amf0Value::Date { millis: n, .. } => js.value(*n),
        Amf0Value::Boolean(b) => js.value(*b),
        Amf0Value::String(s) | Amf0Value::XmlDocument(s) => js.value(s.as_str()),
        Amf0Value::Null => js.value(Null),
        Amf0Value::Undefined | Amf0Value::Unsupported => js.value(()),
        Amf0Value::Object(props) | Amf0Value::EcmaArray(props) => js.record(
            None,
            props.iter().map(|(k, v)| (k.as_str(), amf0_to_js(js, v))),
        ),
        Amf0Value::TypedObject {
            class_name,
            properties,
        } => js.record(
            Some(class_name),
            properties
                .iter()
                .map(|(k, v)| (k.as_str(), amf0_to_js(js, v))),
        ),
        Amf0Value::StrictArray(items) => js.strict(items.iter().map(|v| amf0_to_js(js, v))),
        Amf0Value::Amf3(v) => amf3_to_js(js, v),
    }
}

/// Converts an AMF3 value to JS (integers become Numbers, ByteArrays Buffers,
/// Dictionaries Maps).
fn amf3_to_js<'e>(js: &Js<'e>, v: &Amf3Value) -> napi::Result<Unknown<'e>> {
    match v {
        Amf3Value::Undefined => js.value(()),
        Amf3Value::Null => js.value(Null),
        Amf3Value::Boolean(b) => js.value(*b),
        Amf3Value::Integer(i) => js.value(f64::from(*i)),
        Amf3Value::Double(d) | Amf3Value::Date(d) => js.value(*d),
        Amf3Value::String(s) | Amf3Value::XmlDocument(s) | Amf3Value::Xml(s) => {
            js.value(s.as_str())
        }
        Amf3Value::ByteArray(b) => js.value(Buffer::from(b.clone())),
        Amf3Value::Array { assoc, dense } if assoc.is_empty() => {
            js.strict(dense.iter().map(|v| amf3_to_js(js, v)))
        }
        Amf3Value::Array { assoc, dense } => {
            let mut obj = js.object()?;
            for (i, v) in dense.iter().enumerate() {
                js.set(&mut obj, &i.to_string(), amf3_to_js(js, v)?)?;
            }
            for (k, v) in assoc {
                js.set(&mut obj, k, amf3_to_js(js, v)?)?;
            }
            Ok(obj.to_unknown())
        }
        Amf3Value::VectorInt { items, .. } => Ok(js
            .list(items.iter().map(|v| js.value(f64::from(*v))))?
            .to_unknown()),
        Amf3Value::VectorUint { items, .. } => Ok(js
            .list(items.iter().map(|v| js.value(f64::from(*v))))?
            .to_unknown()),
        Amf3Value::VectorDouble { items, .. } => {
            Ok(js.list(items.iter().map(|v| js.value(*v)))?.to_unknown())
        }
        Amf3Value::VectorObject { items, .. } => Ok(js
            .list(items.iter().map(|v| amf3_to_js(js, v)))?
            .to_unknown()),
        // §3.16: keys of any type, so a Map (built as `new Map([[k, v], ...])`; equal
        // primitive keys collapse to the last, as in ActionScript).
        Amf3Value::Dictionary { weak_keys, entries } => {
            let pairs = js.list(entries.iter().map(|(k, v)| {
                let pair = [amf3_to_js(js, k), amf3_to_js(js, v)];
                Ok(js.list(pair.into_iter())?.to_unknown())
            }))?;
            let map = js.global_map()?.new_instance(pairs.to_unknown())?;
            js.flag(
                &mut Object::from_unknown(map)?,
                WEAK_KEYS,
                *weak_keys,
                PropertyAttributes::Writable | PropertyAttributes::Configurable,
            )?;
            Ok(map)
        }
        Amf3Value::Object {
            class_name,
            properties,
        } => js.record(
            Some(class_name)
                .filter(|c| !c.is_empty())
                .map(String::as_str),
            properties
                .iter()
                .map(|(k, v)| (k.as_str(), amf3_to_js(js, v))),
        ),
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

/// A JS `Map` as an AMF3 Dictionary (§3.16): its entries in insertion order, keys and
/// values converted as AMF3, the weak-keys flag from its own `weakKeys === true`.
fn map_to_amf3<'e>(js: &Js<'e>, map: Unknown<'e>, depth: usize) -> napi::Result<Amf3Value> {
    let weak_keys = js.own_true(&Object::from_unknown(map)?, WEAK_KEYS)?;
    let pairs = js.global_array_from()?.call(map)?;
    let mut entries = Vec::with_capacity(pairs.len() as usize);
    for pair in js.elements(&pairs.coerce_to_object()?)? {
        let pair = Object::from_unknown(pair)?;
        entries.push((
            js_to_amf3(js, pair.get_element(0)?, depth + 1)?,
            js_to_amf3(js, pair.get_element(1)?, depth + 1)?,
        ));
    }
    Ok(Amf3Value::Dictionary { weak_keys, entries })
}

/// Converts a JS value to AMF0; TypeError for values AMF0 cannot carry. A `Map` has no
/// AMF0 type: it goes through the avmplus switch (AMF 0 §3.1) as an AMF3 Dictionary.
fn js_to_amf0<'e>(js: &Js<'e>, v: Unknown<'e>, depth: usize) -> napi::Result<Amf0Value> {
    check_depth(depth)?;
    Ok(match v.get_type()? {
        ValueType::Undefined => Amf0Value::Undefined,
        ValueType::Null => Amf0Value::Null,
        ValueType::Boolean => Amf0Value::Boolean(bool::from_unknown(v)?),
        ValueType::Number => Amf0Value::Number(f64::from_unknown(v)?),
        ValueType::String => Amf0Value::String(String::from_unknown(v)?),
        ValueType::Object => {
            if v.is_buffer()? || v.is_typedarray()? {
                return Err(type_error(
                    "Buffers and typed arrays cannot be AMF0-encoded",
                ));
            }
            if v.is_date()? {
                return Ok(Amf0Value::Date {
                    millis: JsDate::from_unknown(v)?.value_of()?,
                    time_zone: 0,
                });
            }
            let obj = Object::from_unknown(v)?;
            if v.is_array()? {
                if obj.has_own_property("sarray")? {
                    let items = js
                        .elements(&obj)?
                        .into_iter()
                        .map(|item| js_to_amf0(js, item, depth + 1))
                        .collect::<napi::Result<Vec<_>>>()?;
                    return Ok(Amf0Value::StrictArray(items));
                }
                let props = js
                    .keys(&obj)?
                    .into_iter()
                    .map(|(name, value)| Ok((name, js_to_amf0(js, value, depth + 1)?)))
                    .collect::<napi::Result<Vec<_>>>()?;
                return Ok(Amf0Value::EcmaArray(props));
            }
            if js.is_map(v)? {
                return Ok(Amf0Value::Amf3(map_to_amf3(js, v, depth)?));
            }
            let (class_name, entries) = js.object_entries(&obj)?;
            let props = entries
                .into_iter()
                .map(|(name, value)| Ok((name, js_to_amf0(js, value, depth + 1)?)))
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
/// as Double, Arrays as dense Arrays, Buffers as ByteArrays, Dates as Dates, Maps as
/// Dictionaries, objects as dynamic objects (typed by `__className__`); TypeError for
/// what AMF3 cannot carry.
fn js_to_amf3<'e>(js: &Js<'e>, v: Unknown<'e>, depth: usize) -> napi::Result<Amf3Value> {
    use crate::proto::amf::amf3::{INTEGER_MAX, INTEGER_MIN};
    check_depth(depth)?;
    Ok(match v.get_type()? {
        ValueType::Undefined => Amf3Value::Undefined,
        ValueType::Null => Amf3Value::Null,
        ValueType::Boolean => Amf3Value::Boolean(bool::from_unknown(v)?),
        ValueType::Number => {
            let n = f64::from_unknown(v)?;
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
        ValueType::String => Amf3Value::String(String::from_unknown(v)?),
        ValueType::Object => {
            if v.is_buffer()? {
                return Ok(Amf3Value::ByteArray(BufferSlice::from_unknown(v)?.to_vec()));
            }
            if v.is_date()? {
                return Ok(Amf3Value::Date(JsDate::from_unknown(v)?.value_of()?));
            }
            let obj = Object::from_unknown(v)?;
            if v.is_array()? {
                let dense = js
                    .elements(&obj)?
                    .into_iter()
                    .map(|item| js_to_amf3(js, item, depth + 1))
                    .collect::<napi::Result<Vec<_>>>()?;
                return Ok(Amf3Value::Array {
                    assoc: Vec::new(),
                    dense,
                });
            }
            if js.is_map(v)? {
                return map_to_amf3(js, v, depth);
            }
            let (class_name, entries) = js.object_entries(&obj)?;
            let properties = entries
                .into_iter()
                .map(|(name, value)| Ok((name, js_to_amf3(js, value, depth + 1)?)))
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
fn command_to_js<'e>(js: &Js<'e>, cmd: &Command) -> napi::Result<Unknown<'e>> {
    let mut obj = js.object()?;
    js.set(&mut obj, "cmd", js.value(cmd.name.as_str())?)?;
    for (name, v) in &cmd.fields {
        js.set(&mut obj, name, amf0_to_js(js, v)?)?;
    }
    Ok(obj.to_unknown())
}

/// Reads `{ cmd, transId, cmdObj, ... }` into a command.
fn js_to_command<'e>(js: &Js<'e>, obj: Unknown<'e>) -> napi::Result<Command> {
    if obj.get_type()? != ValueType::Object {
        return Err(type_error(
            "a command must be an object { cmd, transId, cmdObj, ... }",
        ));
    }
    let obj = Object::from_unknown(obj)?;
    let name_value: Unknown<'_> = obj.get_named_property_unchecked("cmd")?;
    if name_value.get_type()? != ValueType::String {
        return Err(type_error("command.cmd must be a string"));
    }
    let name = String::from_unknown(name_value)?;
    let names: Vec<&'static str> = match command::field_names(&name) {
        Some(n) => n.iter().copied().chain(["extra"]).collect(),
        None => vec!["transId", "cmdObj", "args"],
    };
    let mut fields = Vec::new();
    for field in names {
        if !obj.has_own_property(field)? {
            continue;
        }
        let mut value = js_to_amf0(js, obj.get_named_property_unchecked(field)?, 0)?;
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

fn to_buffer(out: BytesMut) -> Buffer {
    out.to_vec().into()
}

/// A conversion of one JS value to an AMF value.
type FromJs<V> = for<'e> fn(&Js<'e>, Unknown<'e>, usize) -> napi::Result<V>;

/// A conversion of one AMF value to JS.
type ToJs<V> = for<'e> fn(&Js<'e>, &V) -> napi::Result<Unknown<'e>>;

/// Encodes values as AMF0, one after another.
#[napi(
    catch_unwind,
    ts_args_type = "values: unknown[]",
    ts_return_type = "Buffer"
)]
pub fn amf0_encode(env: &Env, values: Unknown<'_>) -> napi::Result<Buffer> {
    encode_values(env, values, "amf0Encode", js_to_amf0, amf0::encode)
}

/// Converts each element of a JS array and encodes them one after another.
fn encode_values<V>(
    env: &Env,
    values: Unknown<'_>,
    name: &str,
    convert: FromJs<V>,
    encode: fn(&V, &mut BytesMut),
) -> napi::Result<Buffer> {
    if !values.is_array()? {
        return Err(type_error(format!("{name} expects an array of values")));
    }
    let js = Js::new(env);
    let mut out = BytesMut::new();
    for v in js.elements(&Object::from_unknown(values)?)? {
        encode(&convert(&js, v, 0)?, &mut out);
    }
    Ok(to_buffer(out))
}

/// Converts one JS value and encodes it.
fn encode_value<V>(
    env: &Env,
    value: Unknown<'_>,
    convert: FromJs<V>,
    encode: fn(&V, &mut BytesMut),
) -> napi::Result<Buffer> {
    let mut out = BytesMut::new();
    encode(&convert(&Js::new(env), value, 0)?, &mut out);
    Ok(to_buffer(out))
}

/// Decodes one value: `{ len, value }` (empty input is an error).
fn decode_value<'e, V>(
    env: &'e Env,
    buf: &[u8],
    decode: DecodeOne<V>,
    to_js: ToJs<V>,
) -> napi::Result<Unknown<'e>> {
    let (value, len) = decode(buf).map_err(amf_error)?;
    let js = Js::new(env);
    let mut obj = js.object()?;
    js.set(&mut obj, "len", js.value(len as f64)?)?;
    js.set(&mut obj, "value", to_js(&js, &value)?)?;
    Ok(obj.to_unknown())
}

/// Encodes one value as AMF0.
#[napi(
    catch_unwind,
    ts_args_type = "value: unknown",
    ts_return_type = "Buffer"
)]
pub fn amf0_encode_one(env: &Env, value: Unknown<'_>) -> napi::Result<Buffer> {
    encode_value(env, value, js_to_amf0, amf0::encode)
}

/// Decodes every AMF0 value of a buffer (empty input is an error: it holds none).
#[napi(catch_unwind, ts_return_type = "unknown[]")]
pub fn amf0_decode<'e>(env: &'e Env, buf: &[u8]) -> napi::Result<Unknown<'e>> {
    let values = amf0::decode_all(non_empty(buf)?).map_err(amf_error)?;
    Ok(list_to_js(&Js::new(env), &values)?.to_unknown())
}

fn list_to_js<'e>(js: &Js<'e>, values: &[Amf0Value]) -> napi::Result<Array<'e>> {
    js.list(values.iter().map(|v| amf0_to_js(js, v)))
}

/// Decodes the first AMF0 value of a buffer: `{ len, value }`.
#[napi(catch_unwind, ts_return_type = "{ len: number, value: unknown }")]
pub fn amf0_decode_one<'e>(env: &'e Env, buf: &[u8]) -> napi::Result<Unknown<'e>> {
    decode_value(env, buf, amf0::decode_one, amf0_to_js)
}

/// Encodes a command `{ cmd, transId, cmdObj, ... }` as an AMF0 command payload.
#[napi(
    catch_unwind,
    ts_args_type = "cmd: Record<string, unknown>",
    ts_return_type = "Buffer"
)]
pub fn encode_amf0_cmd(env: &Env, cmd: Unknown<'_>) -> napi::Result<Buffer> {
    encode_command_with(env, cmd, command::encode_amf0_command)
}

fn encode_command_with(
    env: &Env,
    cmd: Unknown<'_>,
    encode: fn(&Command, &mut BytesMut),
) -> napi::Result<Buffer> {
    let cmd = js_to_command(&Js::new(env), cmd)?;
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
pub fn encode_amf3_cmd(env: &Env, cmd: Unknown<'_>) -> napi::Result<Buffer> {
    encode_command_with(env, cmd, command::encode_amf3_command)
}

/// Decodes an AMF0 command payload (message type 20).
#[napi(catch_unwind, ts_return_type = "Record<string, unknown>")]
pub fn decode_amf0_cmd<'e>(env: &'e Env, buf: &[u8]) -> napi::Result<Unknown<'e>> {
    let cmd = command::decode_amf0_command(non_empty(buf)?).map_err(amf_error)?;
    command_to_js(&Js::new(env), &cmd)
}

/// Decodes an AMF3 command payload (message type 17).
#[napi(catch_unwind, ts_return_type = "Record<string, unknown>")]
pub fn decode_amf3_cmd<'e>(env: &'e Env, buf: &[u8]) -> napi::Result<Unknown<'e>> {
    let cmd = command::decode_amf3_command(non_empty(buf)?).map_err(amf_error)?;
    command_to_js(&Js::new(env), &cmd)
}

fn data_to_js<'e>(js: &Js<'e>, values: &[Amf0Value]) -> napi::Result<Unknown<'e>> {
    let mut obj = js.object()?;
    for (i, name) in ["cmd", "event", "parms"].into_iter().enumerate() {
        if let Some(v) = values.get(i) {
            js.set(&mut obj, name, amf0_to_js(js, v)?)?;
        }
    }
    js.set(&mut obj, "dec", list_to_js(js, values)?.to_unknown())?;
    Ok(obj.to_unknown())
}

/// Decodes an AMF0 data payload (type 18): `{ cmd, event, parms, dec }`.
#[napi(
    catch_unwind,
    ts_return_type = "{ cmd: unknown, event: unknown, parms: unknown, dec: unknown[] }"
)]
pub fn decode_amf0_data<'e>(env: &'e Env, buf: &[u8]) -> napi::Result<Unknown<'e>> {
    let values = command::decode_data(non_empty(buf)?).map_err(amf_error)?;
    data_to_js(&Js::new(env), &values)
}

/// Decodes an AMF3 data payload (type 15): format byte, then AMF0 with switches.
#[napi(
    catch_unwind,
    ts_return_type = "{ cmd: unknown, event: unknown, parms: unknown, dec: unknown[] }"
)]
pub fn decode_amf3_data<'e>(env: &'e Env, buf: &[u8]) -> napi::Result<Unknown<'e>> {
    let values = command::decode_amf3_data(non_empty(buf)?).map_err(amf_error)?;
    data_to_js(&Js::new(env), &values)
}

/// Encodes values as AMF3, one after another.
#[napi(
    catch_unwind,
    ts_args_type = "values: unknown[]",
    ts_return_type = "Buffer"
)]
pub fn amf3_encode(env: &Env, values: Unknown<'_>) -> napi::Result<Buffer> {
    encode_values(env, values, "amf3Encode", js_to_amf3, amf3::encode)
}

/// Encodes one value as AMF3.
#[napi(
    catch_unwind,
    ts_args_type = "value: unknown",
    ts_return_type = "Buffer"
)]
pub fn amf3_encode_one(env: &Env, value: Unknown<'_>) -> napi::Result<Buffer> {
    encode_value(env, value, js_to_amf3, amf3::encode)
}

/// Decodes every AMF3 value of a buffer (one reference context; empty input is an
/// error: it holds none).
#[napi(catch_unwind, ts_return_type = "unknown[]")]
pub fn amf3_decode<'e>(env: &'e Env, buf: &[u8]) -> napi::Result<Unknown<'e>> {
    let values = amf3::decode_all(non_empty(buf)?).map_err(amf_error)?;
    let js = Js::new(env);
    Ok(js
        .list(values.iter().map(|v| amf3_to_js(&js, v)))?
        .to_unknown())
}

/// Decodes the first AMF3 value of a buffer: `{ len, value }`.
#[napi(catch_unwind, ts_return_type = "{ len: number, value: unknown }")]
pub fn amf3_decode_one<'e>(env: &'e Env, buf: &[u8]) -> napi::Result<Unknown<'e>> {
    decode_value(env, buf, amf3::decode_one, amf3_to_js)
}

/// Decodes a shared object message (type 19, or 16 with its format byte):
/// `{ name, version, persistent, events: [{ type, typeText, name?, data?, values? }] }`.
#[napi(
    catch_unwind,
    ts_return_type = "{ name: string, version: number, persistent: boolean, events: Array<{ type: number, typeText: string, name?: string, data?: Record<string, unknown>, values?: unknown[] }> }"
)]
pub fn decode_shared_object<'e>(
    env: &'e Env,
    type_id: u32,
    buf: &[u8],
) -> napi::Result<Unknown<'e>> {
    let msg =
        shared_object::decode_typed(u8::try_from(type_id).unwrap_or(u8::MAX), non_empty(buf)?)
            .map_err(amf_error)?;
    let js = Js::new(env);
    let mut obj = js.object()?;
    js.set(&mut obj, "name", js.value(msg.name.as_str())?)?;
    js.set(&mut obj, "version", js.value(f64::from(msg.version))?)?;
    js.set(&mut obj, "persistent", js.value(msg.persistent)?)?;
    let events = js.list(msg.events.iter().map(|e| {
        let mut o = js.object()?;
        js.set(&mut o, "type", js.value(f64::from(e.event_type))?)?;
        let type_text = shared_object::event_name(e.event_type);
        js.set(&mut o, "typeText", js.value(type_text)?)?;
        if let Some(name) = &e.name {
            js.set(&mut o, "name", js.value(name.as_str())?)?;
        }
        if !e.pairs.is_empty() {
            let data = amf0_to_js(&js, &Amf0Value::Object(e.pairs.clone()))?;
            js.set(&mut o, "data", data)?;
        }
        if !e.values.is_empty() {
            let values = list_to_js(&js, &e.values)?.to_unknown();
            js.set(&mut o, "values", values)?;
        }
        Ok(o.to_unknown())
    }))?;
    js.set(&mut obj, "events", events.to_unknown())?;
    Ok(obj.to_unknown())
}

/// Encodes a shared object message payload for type 19 (AMF0), or 16 with `amf3`
/// (a leading format byte): `{ name, version, persistent, events: [{ type, name?,
/// data?, values? }] }`.
#[napi(
    catch_unwind,
    ts_args_type = "msg: Record<string, unknown>, amf3?: boolean",
    ts_return_type = "Buffer"
)]
pub fn encode_shared_object(
    env: &Env,
    msg: Unknown<'_>,
    amf3: Option<bool>,
) -> napi::Result<Buffer> {
    let value = js_to_amf0(&Js::new(env), msg, 0)?;
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
