pub mod amf;
