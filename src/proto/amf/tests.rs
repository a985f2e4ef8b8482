//! AMF byte vectors (AMF 0 Specification §2; AMF 3 Specification §3) and hostile input.

use bytes::BytesMut;

use super::amf0::{self, Amf0Value};
use super::amf3::Amf3Value;
use super::AmfError;
use crate::proto::command::{self, Command};

fn enc(v: &Amf0Value) -> Vec<u8> {
    let mut out = BytesMut::new();
    amf0::encode(v, &mut out);
    out.to_vec()
}

fn obj(pairs: &[(&str, Amf0Value)]) -> Vec<(String, Amf0Value)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

#[test]
fn every_amf0_marker_has_the_layout_of_section_2() {
    #[rustfmt::skip]
    let cases: Vec<(Amf0Value, Vec<u8>)> = vec![
        // §2.2 number: marker 0x00, IEEE-754 double big-endian
        (Amf0Value::Number(1.0), vec![0x00, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0]),
        // §2.3 boolean
        (Amf0Value::Boolean(true), vec![0x01, 0x01]),
        (Amf0Value::Boolean(false), vec![0x01, 0x00]),
        // §2.4 string: u16 UTF-8 byte length ("é" is 2 bytes)
        (Amf0Value::String("hé".into()), vec![0x02, 0x00, 0x03, b'h', 0xC3, 0xA9]),
        // §2.5 object with one property, then 00 00 09
        (Amf0Value::Object(obj(&[("a", Amf0Value::Null)])), vec![0x03, 0x00, 0x01, b'a', 0x05, 0x00, 0x00, 0x09]),
        // §2.7 null, §2.8 undefined, §2.15 unsupported
        (Amf0Value::Null, vec![0x05]),
        (Amf0Value::Undefined, vec![0x06]),
        (Amf0Value::Unsupported, vec![0x0D]),
        // §2.10 ECMA array: u32 count, pairs, end marker
        (Amf0Value::EcmaArray(obj(&[("x", Amf0Value::Boolean(true))])),
            vec![0x08, 0, 0, 0, 1, 0x00, 0x01, b'x', 0x01, 0x01, 0x00, 0x00, 0x09]),
        // §2.12 strict array: u32 count, values
        (Amf0Value::StrictArray(vec![Amf0Value::Null, Amf0Value::Undefined]), vec![0x0A, 0, 0, 0, 2, 0x05, 0x06]),
        // §2.13 date: double ms + s16 time zone
        (Amf0Value::Date { millis: 0.0, time_zone: 0 }, vec![0x0B, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        // §2.17 XML document: u32 length
        (Amf0Value::XmlDocument("<a/>".into()), vec![0x0F, 0, 0, 0, 4, b'<', b'a', b'/', b'>']),
        // §2.18 typed object: class name, then properties
        (Amf0Value::TypedObject { class_name: "C".into(), properties: obj(&[]) },
            vec![0x10, 0x00, 0x01, b'C', 0x00, 0x00, 0x09]),
        // §3.1 avmplus switch with an AMF3 integer 5
        (Amf0Value::Amf3(Amf3Value::Integer(5)), vec![0x11, 0x04, 0x05]),
    ];
    for (value, bytes) in cases {
        assert_eq!(enc(&value), bytes, "encode {value:?}");
        let (decoded, len) = amf0::decode_one(&bytes).unwrap();
        assert_eq!(decoded, value, "decode {bytes:02x?}");
        assert_eq!(len, bytes.len());
    }
}

#[test]
fn strings_over_65535_utf8_bytes_become_long_strings() {
    let at_limit = "a".repeat(65535);
    assert_eq!(
        enc(&Amf0Value::String(at_limit.clone()))[..3],
        [0x02, 0xFF, 0xFF]
    );
    let over = "é".repeat(32768); // 65536 bytes, 32768 characters
    let bytes = enc(&Amf0Value::String(over.clone()));
    assert_eq!(bytes[..5], [0x0C, 0x00, 0x01, 0x00, 0x00]);
    assert_eq!(amf0::decode_one(&bytes).unwrap().0, Amf0Value::String(over));
    assert_eq!(
        amf0::decode_one(&enc(&Amf0Value::String(at_limit.clone())))
            .unwrap()
            .0,
        Amf0Value::String(at_limit)
    );
}

#[test]
fn references_resolve_to_the_referenced_object() {
    // §2.9: [ {a: 1}, ref 1 ] — index 0 is the strict array itself, 1 the object.
    #[rustfmt::skip]
    let bytes = [
        0x0A, 0, 0, 0, 2,
        0x03, 0x00, 0x01, b'a', 0x00, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x09,
        0x07, 0x00, 0x01,
    ];
    let inner = Amf0Value::Object(obj(&[("a", Amf0Value::Number(1.0))]));
    assert_eq!(
        amf0::decode_one(&bytes).unwrap().0,
        Amf0Value::StrictArray(vec![inner.clone(), inner])
    );
}

#[test]
fn a_real_ffmpeg_connect_command_decodes_with_node_rtmpapi_field_names() {
    let mut payload = BytesMut::new();
    let connect = Command::from_values(
        "connect".into(),
        vec![
            Amf0Value::Number(1.0),
            Amf0Value::Object(obj(&[
                ("app", Amf0Value::String("live".into())),
                ("type", Amf0Value::String("nonprivate".into())),
                (
                    "flashVer",
                    Amf0Value::String("FMLE/3.0 (compatible; Lavf58.20.100)".into()),
                ),
                (
                    "tcUrl",
                    Amf0Value::String("rtmp://127.0.0.1:1935/live".into()),
                ),
            ])),
        ],
    );
    command::encode_amf0_command(&connect, &mut payload);
    #[rustfmt::skip]
    let head = [0x02, 0x00, 0x07, b'c', b'o', b'n', b'n', b'e', b'c', b't',
                0x00, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0, 0x03, 0x00, 0x03, b'a', b'p', b'p'];
    assert_eq!(&payload[..head.len()], &head);
    let decoded = command::decode_amf0_command(&payload).unwrap();
    assert_eq!(decoded.name, "connect");
    assert_eq!(decoded.get("transId"), Some(&Amf0Value::Number(1.0)));
    assert_eq!(
        decoded
            .get("cmdObj")
            .and_then(|o| o.get("app"))
            .and_then(Amf0Value::as_str),
        Some("live")
    );
    assert_eq!(decoded, connect);
}

#[test]
fn command_fields_follow_the_original_table_and_unknown_commands_keep_their_values() {
    let publish = Command::from_values(
        "publish".into(),
        vec![
            Amf0Value::Number(5.0),
            Amf0Value::Null,
            Amf0Value::String("key".into()),
            Amf0Value::String("live".into()),
        ],
    );
    let names: Vec<&str> = publish.fields.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["transId", "cmdObj", "name", "type"]);

    let unknown = Command::from_values(
        "FCUnpublish".into(),
        vec![
            Amf0Value::Number(6.0),
            Amf0Value::Null,
            Amf0Value::String("key".into()),
            Amf0Value::Boolean(true),
        ],
    );
    assert_eq!(
        unknown.get("args"),
        Some(&Amf0Value::StrictArray(vec![
            Amf0Value::String("key".into()),
            Amf0Value::Boolean(true)
        ]))
    );
    let mut bytes = BytesMut::new();
    command::encode_amf0_command(&unknown, &mut bytes);
    assert_eq!(command::decode_amf0_command(&bytes).unwrap(), unknown);

    // Surplus values of a known command are kept in `extra`.
    let with_extra = Command::from_values(
        "createStream".into(),
        vec![
            Amf0Value::Number(2.0),
            Amf0Value::Null,
            Amf0Value::Number(9.0),
        ],
    );
    assert_eq!(
        with_extra.get("extra"),
        Some(&Amf0Value::StrictArray(vec![Amf0Value::Number(9.0)]))
    );
}

#[test]
fn amf3_commands_skip_their_format_byte_and_switch_per_value() {
    // Type 17: 0x00, "connect", 1.0, then an AMF3 object via 0x11 (anonymous, dynamic).
    #[rustfmt::skip]
    let payload = [
        0x00,
        0x02, 0x00, 0x07, b'c', b'o', b'n', b'n', b'e', b'c', b't',
        0x00, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0,
        0x11, 0x0A, 0x0B, 0x01, 0x07, b'a', b'p', b'p', 0x06, 0x09, b'l', b'i', b'v', b'e', 0x01,
    ];
    let cmd = command::decode_amf3_command(&payload).unwrap();
    assert_eq!(cmd.name, "connect");
    assert_eq!(
        cmd.get("cmdObj"),
        Some(&Amf0Value::Amf3(Amf3Value::Object {
            class_name: String::new(),
            properties: vec![("app".into(), Amf3Value::String("live".into()))],
        }))
    );
}

#[test]
fn amf3_integers_sign_extend_29_bits_and_strings_use_the_reference_table() {
    #[rustfmt::skip]
    let cases: &[(&[u8], Amf3Value)] = &[
        (&[0x04, 0x7F], Amf3Value::Integer(127)),
        (&[0x04, 0x81, 0x00], Amf3Value::Integer(128)),
        (&[0x04, 0xBF, 0xFF, 0xFF, 0xFF], Amf3Value::Integer((1 << 28) - 1)),
        (&[0x04, 0xC0, 0x80, 0x80, 0x00], Amf3Value::Integer(-(1 << 28))),
        (&[0x04, 0xFF, 0xFF, 0xFF, 0xFF], Amf3Value::Integer(-1)),
    ];
    for (bytes, value) in cases {
        let mut all = vec![0x11];
        all.extend_from_slice(bytes);
        assert_eq!(
            amf0::decode_one(&all).unwrap().0,
            Amf0Value::Amf3(value.clone()),
            "{bytes:02x?}"
        );
        assert_eq!(
            enc(&Amf0Value::Amf3(value.clone())),
            all,
            "encode {value:?}"
        );
    }
    // Array ["ab", ref 0] : the second string is a reference to the first.
    let bytes = [0x11, 0x09, 0x05, 0x01, 0x06, 0x05, b'a', b'b', 0x06, 0x00];
    let Amf0Value::Amf3(Amf3Value::Array { dense, .. }) = amf0::decode_one(&bytes).unwrap().0
    else {
        panic!("array expected")
    };
    assert_eq!(
        dense,
        vec![
            Amf3Value::String("ab".into()),
            Amf3Value::String("ab".into())
        ]
    );
}

#[test]
fn every_truncation_of_a_valid_encoding_is_an_error_not_a_panic() {
    let value = Amf0Value::Object(obj(&[
        ("n", Amf0Value::Number(3.5)),
        ("s", Amf0Value::String("text".into())),
        (
            "a",
            Amf0Value::StrictArray(vec![
                Amf0Value::Boolean(true),
                Amf0Value::Date {
                    millis: 1.0,
                    time_zone: 0,
                },
            ]),
        ),
        (
            "e",
            Amf0Value::EcmaArray(obj(&[("k", Amf0Value::XmlDocument("<x/>".into()))])),
        ),
        (
            "t",
            Amf0Value::TypedObject {
                class_name: "T".into(),
                properties: obj(&[("u", Amf0Value::Undefined)]),
            },
        ),
        ("3", Amf0Value::Amf3(Amf3Value::String("amf3".into()))),
    ]));
    let bytes = enc(&value);
    assert_eq!(amf0::decode_one(&bytes).unwrap().0, value);
    for cut in 0..bytes.len() {
        assert!(
            amf0::decode_one(&bytes[..cut]).is_err(),
            "prefix of {cut} bytes"
        );
    }
}

#[test]
fn hostile_input_gives_errors() {
    // Unknown and reserved markers (§2.6 MovieClip, §2.16 RecordSet).
    for m in [0x04u8, 0x0E, 0x12, 0xFF] {
        assert!(
            matches!(amf0::decode_one(&[m]), Err(AmfError::UnknownMarker { .. })),
            "marker {m:#x}"
        );
    }
    // A reference to a table entry that does not exist.
    assert!(matches!(
        amf0::decode_one(&[0x07, 0x00, 0x05]),
        Err(AmfError::BadReference { index: 5, .. })
    ));
    // Absurd declared lengths without the bytes behind them.
    assert!(matches!(
        amf0::decode_one(&[0x0C, 0xFF, 0xFF, 0xFF, 0xFF]),
        Err(AmfError::Truncated { .. })
    ));
    assert!(amf0::decode_one(&[0x0A, 0xFF, 0xFF, 0xFF, 0xFF]).is_err());
    // Invalid UTF-8.
    assert!(matches!(
        amf0::decode_one(&[0x02, 0x00, 0x01, 0xFF]),
        Err(AmfError::InvalidUtf8 { .. })
    ));
    // 200,000 nested objects and strict arrays: an error, not a stack overflow.
    let deep_objects: Vec<u8> = std::iter::repeat_n([0x03, 0x00, 0x01, b'a'], 200_000)
        .flatten()
        .collect();
    assert_eq!(
        amf0::decode_one(&deep_objects).unwrap_err(),
        AmfError::TooDeep
    );
    let deep_arrays: Vec<u8> = std::iter::repeat_n([0x0A, 0, 0, 0, 1], 200_000)
        .flatten()
        .collect();
    assert_eq!(
        amf0::decode_one(&deep_arrays).unwrap_err(),
        AmfError::TooDeep
    );
    let deep_amf3: Vec<u8> = [0x11]
        .into_iter()
        .chain(std::iter::repeat_n([0x09, 0x03, 0x01], 200_000).flatten())
        .collect();
    assert_eq!(amf0::decode_one(&deep_amf3).unwrap_err(), AmfError::TooDeep);
}

#[test]
fn reference_chains_cannot_expand_without_bound() {
    // Each array holds two references to the previous one: 2^n values from n*8 bytes.
    let mut bytes = vec![0x0A, 0, 0, 0, 41, 0x03, 0x00, 0x00, 0x09];
    for i in 1..=40u16 {
        bytes.extend_from_slice(&[0x0A, 0, 0, 0, 2, 0x07]);
        bytes.extend_from_slice(&i.to_be_bytes());
        bytes.push(0x07);
        bytes.extend_from_slice(&i.to_be_bytes());
    }
    assert_eq!(
        amf0::decode_one(&bytes).unwrap_err(),
        AmfError::TooManyValues
    );
}

#[test]
fn decode_of_encode_round_trips_generated_values() {
    let mut seed = 0x2545_F491u32;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    fn gen(next: &mut impl FnMut() -> u32, depth: u32) -> Amf0Value {
        let pick = next() % if depth > 3 { 6 } else { 10 };
        match pick {
            0 => Amf0Value::Number(f64::from(next()) / 7.0),
            1 => Amf0Value::Boolean(next().is_multiple_of(2)),
            2 => Amf0Value::String(format!("s{}é", next())),
            3 => Amf0Value::Null,
            4 => Amf0Value::Undefined,
            5 => Amf0Value::Date {
                millis: f64::from(next()),
                time_zone: 0,
            },
            6 => Amf0Value::Object(
                (0..next() % 4)
                    .map(|i| (format!("k{i}"), gen(next, depth + 1)))
                    .collect(),
            ),
            7 => Amf0Value::EcmaArray(
                (0..next() % 4)
                    .map(|i| (format!("{i}"), gen(next, depth + 1)))
                    .collect(),
            ),
            8 => Amf0Value::StrictArray((0..next() % 4).map(|_| gen(next, depth + 1)).collect()),
            _ => Amf0Value::TypedObject {
                class_name: "flex.Msg".into(),
                properties: (0..next() % 3)
                    .map(|i| (format!("p{i}"), gen(next, depth + 1)))
                    .collect(),
            },
        }
    }
    for _ in 0..500 {
        let v = gen(&mut next, 0);
        assert_eq!(amf0::decode_all(&enc(&v)).unwrap(), vec![v]);
    }
}

#[test]
fn amf3_vectors_and_dictionaries_have_the_layouts_of_sections_3_15_and_3_16() {
    use super::amf3;
    #[rustfmt::skip]
    let cases: Vec<(Amf3Value, Vec<u8>)> = vec![
        // Vector.<int> [1, -1], not fixed
        (Amf3Value::VectorInt { fixed: false, items: vec![1, -1] },
            vec![0x0D, 0x05, 0x00, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF]),
        // Vector.<uint> [7], fixed
        (Amf3Value::VectorUint { fixed: true, items: vec![7] }, vec![0x0E, 0x03, 0x01, 0, 0, 0, 7]),
        // Vector.<Number> [0.5]
        (Amf3Value::VectorDouble { fixed: false, items: vec![0.5] },
            vec![0x0F, 0x03, 0x00, 0x3F, 0xE0, 0, 0, 0, 0, 0, 0]),
        // Vector.<Object> of "*" with one null
        (Amf3Value::VectorObject { fixed: false, type_name: "*".into(), items: vec![Amf3Value::Null] },
            vec![0x10, 0x03, 0x00, 0x03, b'*', 0x01]),
        // Dictionary { "k": true }, weak keys
        (Amf3Value::Dictionary { weak_keys: true, entries: vec![(Amf3Value::String("k".into()), Amf3Value::Boolean(true))] },
            vec![0x11, 0x03, 0x01, 0x06, 0x03, b'k', 0x03]),
        // ByteArray of 2 bytes
        (Amf3Value::ByteArray(vec![9, 8]), vec![0x0C, 0x05, 9, 8]),
        // Date 0
        (Amf3Value::Date(0.0), vec![0x08, 0x01, 0, 0, 0, 0, 0, 0, 0, 0]),
        // An object with an empty member name (found by the fuzzer): "" would end the
        // dynamic members, so it is written with two sealed members (0x23 = 2 << 4 | 0b0011).
        (Amf3Value::Object { class_name: String::new(), properties: vec![
            (String::new(), Amf3Value::Null), ("a".into(), Amf3Value::Boolean(true))] },
            vec![0x0A, 0x23, 0x01, 0x01, 0x03, b'a', 0x01, 0x03]),
    ];
    for (value, bytes) in cases {
        let mut out = BytesMut::new();
        amf3::encode(&value, &mut out);
        assert_eq!(out.to_vec(), bytes, "encode {value:?}");
        assert_eq!(amf3::decode_one(&bytes).unwrap(), (value, bytes.len()));
        for cut in 0..bytes.len() {
            assert!(
                amf3::decode_one(&bytes[..cut]).is_err(),
                "prefix {cut} of {bytes:02x?}"
            );
        }
    }
    // A vector declaring 2^28 items with none present: an error, no huge allocation.
    assert!(amf3::decode_one(&[0x0D, 0xBF, 0xFF, 0xFF, 0xFF, 0x00]).is_err());
    // Externalizable traits of an unknown class: a clear error.
    assert!(matches!(
        amf3::decode_one(&[0x0A, 0x07, 0x03, b'X']),
        Err(AmfError::Invalid(_))
    ));
}

#[test]
fn empty_input_is_no_value_for_decode_one_and_no_values_for_decode_all() {
    use super::amf3;
    assert_eq!(amf0::decode_one(&[]), Err(AmfError::Empty));
    assert_eq!(amf3::decode_one(&[]), Err(AmfError::Empty));
    // A payload of zero values (a shared object's message event may carry none).
    assert_eq!(amf0::decode_all(&[]), Ok(vec![]));
    assert_eq!(amf3::decode_all(&[]), Ok(vec![]));
}

#[test]
fn amf3_dictionaries_take_keys_of_any_type_and_share_the_object_table() {
    use super::amf3;
    let dict = |weak_keys, entries| Amf3Value::Dictionary { weak_keys, entries };
    let k = || Amf3Value::String("k".into());
    let empty_object = Amf3Value::Object {
        class_name: String::new(),
        properties: vec![],
    };
    // §3.16: marker, U29Dict-value (count << 1 | 1), weak-keys U8, then key/value pairs;
    // a key is any value with its marker.
    #[rustfmt::skip]
    let value = dict(false, vec![
        (Amf3Value::Integer(1), Amf3Value::String("a".into())),
        (empty_object.clone(), Amf3Value::Null),
        (dict(true, vec![]), Amf3Value::Boolean(false)),
        (Amf3Value::Double(0.5), Amf3Value::Undefined),
    ]);
    #[rustfmt::skip]
    let bytes = vec![
        0x11, 0x09, 0x00,
        0x04, 0x01, 0x06, 0x03, b'a',
        0x0A, 0x0B, 0x01, 0x01, 0x01,
        0x11, 0x01, 0x01, 0x02,
        0x05, 0x3F, 0xE0, 0, 0, 0, 0, 0, 0, 0x00,
    ];
    let mut out = BytesMut::new();
    amf3::encode(&value, &mut out);
    assert_eq!(out.to_vec(), bytes);
    assert_eq!(amf3::decode_one(&bytes), Ok((value.clone(), bytes.len())));
    // In AMF0, through the avmplus switch (AMF 0 §3.1).
    let switched = Amf0Value::Amf3(value);
    assert_eq!(enc(&switched), [&[0x11][..], &bytes].concat());
    assert_eq!(amf0::decode_one(&enc(&switched)).unwrap().0, switched);

    // A dictionary takes an object-table slot (§2.2): in a dense Array (slot 0), the
    // dictionary is slot 1, so 0x11 0x02 and 0x0A 0x02 are references to it, and the
    // string table gives a value "k" by reference (0x06 0x00).
    let d = dict(false, vec![(k(), k())]);
    #[rustfmt::skip]
    let bytes = [
        0x09, 0x07, 0x01,
        0x11, 0x03, 0x00, 0x06, 0x03, b'k', 0x06, 0x00,
        0x11, 0x02,
        0x0A, 0x02,
    ];
    let expected = Amf3Value::Array {
        assoc: vec![],
        dense: vec![d.clone(), d.clone(), d],
    };
    assert_eq!(amf3::decode_one(&bytes), Ok((expected, bytes.len())));

    // A dictionary holding itself as a key, a reference past the table, and a count
    // with no entries behind it are errors.
    assert!(matches!(
        amf3::decode_one(&[0x11, 0x03, 0x00, 0x11, 0x00, 0x01]),
        Err(AmfError::Invalid(_))
    ));
    assert!(matches!(
        amf3::decode_one(&[0x11, 0x02]),
        Err(AmfError::BadReference { index: 1, .. })
    ));
    assert!(matches!(
        amf3::decode_one(&[0x11, 0xBF, 0xFF, 0xFF, 0xFF, 0x00]),
        Err(AmfError::Truncated { .. })
    ));
}
