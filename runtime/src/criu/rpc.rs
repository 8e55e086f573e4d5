//! CRIU's RPC messages (criu/images/rpc.proto, proto2), the fields remora
//! uses, as prost structs: no protoc and no build script. The tags are
//! rpc.proto's; a field left out here is one CRIU never sees set. Enums
//! travel as their numbers (the consts below).

#![allow(missing_docs)]

/// criu_req_type.
pub mod req_type {
    pub const DUMP: i32 = 1;
    pub const RESTORE: i32 = 2;
    pub const CHECK: i32 = 3;
    pub const PRE_DUMP: i32 = 4;
    pub const NOTIFY: i32 = 6;
    pub const FEATURE_CHECK: i32 = 9;
    pub const VERSION: i32 = 10;

    /// The name CRIU's own messages use, for errors.
    pub fn name(t: i32) -> &'static str {
        match t {
            DUMP => "DUMP",
            RESTORE => "RESTORE",
            CHECK => "CHECK",
            PRE_DUMP => "PRE_DUMP",
            NOTIFY => "NOTIFY",
            FEATURE_CHECK => "FEATURE_CHECK",
            VERSION => "VERSION",
            _ => "UNKNOWN",
        }
    }
}

/// criu_cg_mode.
pub mod cg_mode {
    pub const IGNORE: i32 = 0;
    pub const SOFT: i32 = 3;
    pub const FULL: i32 = 4;
    pub const STRICT: i32 = 5;
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct PageServerInfo {
    #[prost(string, optional, tag = "1")]
    pub address: Option<String>,
    #[prost(int32, optional, tag = "2")]
    pub port: Option<i32>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ExtMountMap {
    #[prost(string, required, tag = "1")]
    pub key: String,
    #[prost(string, required, tag = "2")]
    pub val: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct InheritFd {
    #[prost(string, required, tag = "1")]
    pub key: String,
    #[prost(int32, required, tag = "2")]
    pub fd: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CgroupRoot {
    #[prost(string, optional, tag = "1")]
    pub ctrl: Option<String>,
    #[prost(string, required, tag = "2")]
    pub path: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CriuOpts {
    #[prost(int32, required, tag = "1")]
    pub images_dir_fd: i32,
    #[prost(int32, optional, tag = "2")]
    pub pid: Option<i32>,
    #[prost(bool, optional, tag = "3")]
    pub leave_running: Option<bool>,
    #[prost(bool, optional, tag = "4")]
    pub ext_unix_sk: Option<bool>,
    #[prost(bool, optional, tag = "5")]
    pub tcp_established: Option<bool>,
    #[prost(bool, optional, tag = "6")]
    pub evasive_devices: Option<bool>,
    #[prost(bool, optional, tag = "7")]
    pub shell_job: Option<bool>,
    #[prost(bool, optional, tag = "8")]
    pub file_locks: Option<bool>,
    #[prost(int32, optional, tag = "9")]
    pub log_level: Option<i32>,
    #[prost(string, optional, tag = "10")]
    pub log_file: Option<String>,
    #[prost(message, optional, tag = "11")]
    pub ps: Option<PageServerInfo>,
    #[prost(bool, optional, tag = "12")]
    pub notify_scripts: Option<bool>,
    #[prost(string, optional, tag = "13")]
    pub root: Option<String>,
    #[prost(string, optional, tag = "14")]
    pub parent_img: Option<String>,
    #[prost(bool, optional, tag = "15")]
    pub track_mem: Option<bool>,
    #[prost(bool, optional, tag = "16")]
    pub auto_dedup: Option<bool>,
    #[prost(int32, optional, tag = "17")]
    pub work_dir_fd: Option<i32>,
    #[prost(message, repeated, tag = "23")]
    pub ext_mnt: Vec<ExtMountMap>,
    #[prost(bool, optional, tag = "24")]
    pub manage_cgroups: Option<bool>,
    #[prost(message, repeated, tag = "25")]
    pub cg_root: Vec<CgroupRoot>,
    #[prost(bool, optional, tag = "26")]
    pub rst_sibling: Option<bool>,
    #[prost(message, repeated, tag = "27")]
    pub inherit_fd: Vec<InheritFd>,
    #[prost(int32, optional, tag = "34")]
    pub manage_cgroups_mode: Option<i32>,
    #[prost(string, repeated, tag = "37")]
    pub external: Vec<String>,
    #[prost(uint32, optional, tag = "38")]
    pub empty_ns: Option<u32>,
    #[prost(string, optional, tag = "44")]
    pub freeze_cgroup: Option<String>,
    #[prost(bool, optional, tag = "48")]
    pub lazy_pages: Option<bool>,
    #[prost(int32, optional, tag = "49")]
    pub status_fd: Option<i32>,
    #[prost(bool, optional, tag = "50")]
    pub orphan_pts_master: Option<bool>,
    #[prost(string, optional, tag = "53")]
    pub lsm_profile: Option<String>,
    #[prost(string, optional, tag = "63")]
    pub lsm_mount_context: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CriuFeatures {
    #[prost(bool, optional, tag = "1")]
    pub mem_track: Option<bool>,
    #[prost(bool, optional, tag = "2")]
    pub lazy_pages: Option<bool>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CriuReq {
    #[prost(int32, required, tag = "1")]
    pub r#type: i32,
    #[prost(message, optional, tag = "2")]
    pub opts: Option<CriuOpts>,
    #[prost(bool, optional, tag = "3")]
    pub notify_success: Option<bool>,
    #[prost(message, optional, tag = "5")]
    pub features: Option<CriuFeatures>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CriuNotify {
    #[prost(string, optional, tag = "1")]
    pub script: Option<String>,
    #[prost(int32, optional, tag = "2")]
    pub pid: Option<i32>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CriuRestoreResp {
    #[prost(int32, required, tag = "1")]
    pub pid: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CriuVersion {
    #[prost(int32, required, tag = "1")]
    pub major_number: i32,
    #[prost(int32, required, tag = "2")]
    pub minor_number: i32,
    #[prost(string, optional, tag = "3")]
    pub gitid: Option<String>,
    #[prost(int32, optional, tag = "4")]
    pub sublevel: Option<i32>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CriuResp {
    #[prost(int32, required, tag = "1")]
    pub r#type: i32,
    #[prost(bool, required, tag = "2")]
    pub success: bool,
    #[prost(message, optional, tag = "4")]
    pub restore: Option<CriuRestoreResp>,
    #[prost(message, optional, tag = "5")]
    pub notify: Option<CriuNotify>,
    #[prost(int32, optional, tag = "7")]
    pub cr_errno: Option<i32>,
    #[prost(message, optional, tag = "8")]
    pub features: Option<CriuFeatures>,
    #[prost(string, optional, tag = "9")]
    pub cr_errmsg: Option<String>,
    #[prost(message, optional, tag = "10")]
    pub version: Option<CriuVersion>,
}

impl CriuOpts {
    /// Options with the images directory fd set and everything else unset.
    pub fn new(images_dir_fd: i32) -> Self {
        CriuOpts {
            images_dir_fd,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    /// The bytes protobuf-c (CRIU) expects for a small request, worked out
    /// by hand from rpc.proto's tags.
    #[test]
    fn wire_format_matches_rpc_proto() {
        let req = CriuReq {
            r#type: req_type::DUMP,
            opts: Some(CriuOpts {
                pid: Some(7),
                leave_running: Some(true),
                orphan_pts_master: Some(true),
                ..CriuOpts::new(5)
            }),
            notify_success: None,
            features: None,
        };
        let bytes = req.encode_to_vec();
        // type=1 (field 1 varint), opts (field 2, 9 bytes): fd=5 (1),
        // pid=7 (2), leave_running (3), orphan_pts_master (50: tag 0x190
        // as varint 0x90 0x03).
        assert_eq!(
            bytes,
            [0x08, 0x01, 0x12, 0x09, 0x08, 0x05, 0x10, 0x07, 0x18, 0x01, 0x90, 0x03, 0x01]
        );
        let resp = CriuResp {
            r#type: req_type::NOTIFY,
            success: true,
            notify: Some(CriuNotify {
                script: Some("post-restore".into()),
                pid: Some(42),
            }),
            ..Default::default()
        };
        let back = CriuResp::decode(resp.encode_to_vec().as_slice()).unwrap();
        assert_eq!(back, resp);
    }
}
