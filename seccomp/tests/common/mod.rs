#![allow(dead_code)]
pub mod bpf;
pub mod engine;
