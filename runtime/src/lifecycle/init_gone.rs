//! The container init gone or stuck, as remora sees it from outside (the
//! init said nothing: what it says itself comes as text, `Error::Init`).

#[derive(Debug, thiserror::Error)]
pub enum InitGone {
    #[error("container init exited during create")]
    DuringCreate,
    /// `how`: how it ended (watch::describe), e.g. "was killed by SIGKILL".
    #[error("container init {how} before it was ready")]
    BeforeReady { how: String },
    #[error("container init exited before it was started")]
    BeforeStart,
    #[error("the restored init ({pid}) is gone")]
    Restored { pid: i32 },
    #[error("container's cgroup unexpectedly frozen while waiting for the init (pid {pid})")]
    Frozen { pid: i32 },
    #[error("container init (pid {pid}) stuck in uninterruptible sleep (state D, in {wchan}) for {secs} s")]
    Stuck { pid: i32, wchan: String, secs: u64 },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_the_ones_engines_see() {
        let e: crate::error::Error = InitGone::BeforeReady {
            how: "was killed by SIGKILL".into(),
        }
        .into();
        assert_eq!(
            crate::error::chain(&e),
            "container init was killed by SIGKILL before it was ready"
        );
        let e = InitGone::Stuck {
            pid: 7,
            wchan: "fuse_wait".into(),
            secs: 10,
        };
        assert_eq!(
            e.to_string(),
            "container init (pid 7) stuck in uninterruptible sleep (state D, in fuse_wait) for 10 s"
        );
    }
}
