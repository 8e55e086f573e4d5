//! The kernel's list format for CPUs and NUMA nodes: "0-3,7" (ranges and
//! single numbers, comma separated), as cpuset.cpus and the spec's
//! execCPUAffinity and memoryPolicy.nodes use it.

/// The numbers a list names, ascending and without repeats; `limit` is the
/// first number too large. The error says what is wrong with the list.
pub fn parse(list: &str, limit: usize) -> Result<Vec<usize>, String> {
    let mut out = std::collections::BTreeSet::new();
    if list.trim().is_empty() {
        return Err("the list is empty".into());
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
            return Err(format!("{part:?}: the range is reversed"));
        }
        if hi >= limit {
            return Err(format!(
                "{part:?}: {hi} is too large (the limit is {limit})"
            ));
        }
        out.extend(lo..=hi);
    }
    Ok(out.into_iter().collect())
}

fn number(s: &str, part: &str) -> Result<usize, String> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{part:?}: not a number or a range of numbers"));
    }
    s.parse()
        .map_err(|_| format!("{part:?}: not a number or a range of numbers"))
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
    }
}
