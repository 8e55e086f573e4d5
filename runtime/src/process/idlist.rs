//! The kernel's list format for CPUs and NUMA nodes: "0-3,7" (ranges and
//! single numbers, comma separated), as cpuset.cpus and the spec's
//! execCPUAffinity and memoryPolicy.nodes use it.

/// What is wrong with a list; `part` is the comma-separated part at fault.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdListError {
    #[error("the list is empty")]
    Empty,
    #[error("{part:?}: the range is reversed")]
    Reversed { part: String },
    #[error("{part:?}: {hi} is too large (the limit is {limit})")]
    TooLarge {
        part: String,
        hi: usize,
        limit: usize,
    },
    #[error("{part:?}: not a number or a range of numbers")]
    NotANumber { part: String },
}

/// The numbers a list names, ascending and without repeats; `limit` is the
/// first number too large. The error says what is wrong with the list.
pub fn parse(list: &str, limit: usize) -> Result<Vec<usize>, IdListError> {
    let mut out = std::collections::BTreeSet::new();
    if list.trim().is_empty() {
        return Err(IdListError::Empty);
    }
    for part in list.split(',') {
        let part = part.trim();
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (number(a, part)?, number(b, part)?),
            None => {
                let n = number(part, part)?;
                (n, n)
            }
        };
        if lo > hi {
            return Err(IdListError::Reversed { part: part.into() });
        }
        if hi >= limit {
            return Err(IdListError::TooLarge {
                part: part.into(),
                hi,
                limit,
            });
        }
        out.extend(lo..=hi);
    }
    Ok(out.into_iter().collect())
}

fn number(s: &str, part: &str) -> Result<usize, IdListError> {
    let s = s.trim();
    let bad = || IdListError::NotANumber { part: part.into() };
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    s.parse().map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn ranges_and_numbers() {
        assert_eq!(parse("0-3,7", 1024).unwrap(), vec![0, 1, 2, 3, 7]);
        assert_eq!(parse("1", 1024).unwrap(), vec![1]);
        assert_eq!(parse("1,1,0-1", 1024).unwrap(), vec![0, 1]);
        assert_eq!(parse(" 2 , 4-5", 1024).unwrap(), vec![2, 4, 5]);
    }

    #[test]
    fn bad_lists_are_refused() {
        for bad in ["", "a", "1-", "-1", "3-1", "1,,2", "1-2-3", "+1", "1024"] {
            assert!(parse(bad, 1024).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            parse("3-1", 1024).unwrap_err().to_string(),
            "\"3-1\": the range is reversed"
        );
        assert_eq!(
            parse("0,1024", 1024).unwrap_err().to_string(),
            "\"1024\": 1024 is too large (the limit is 1024)"
        );
    }
}
