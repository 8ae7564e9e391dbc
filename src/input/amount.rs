//! Amounts of yuan as users write them: a number, or `"3亿"`, `"300万"`, `"3e8"`,
//! `"1,500万"`, optionally ending in 元 (MODEL.md §9).

use super::clip;

/// Parses an amount: a number, or `"3亿"`, `"300万"`, `"3e8"`, optionally ending in 元.
/// None for anything [`amount`] rejects.
pub fn parse_amount(s: &str) -> Option<f64> {
    amount(s).ok()
}

/// Parses an amount like [`parse_amount`], saying what is wrong when it cannot.
///
/// Commas are thousands separators only (`"1,500万"`, groups of three digits);
/// `"1,5亿"` is an error rather than 15亿. Spaces and `_` are ignored.
pub fn amount(s: &str) -> Result<f64, String> {
    let shown = clip(s);
    let t = s.trim().trim_end_matches('元').replace(['_', ' '], "");
    let (num, mult) = if let Some(x) = t.strip_suffix('亿') {
        (x, 1e8)
    } else if let Some(x) = t.strip_suffix('万') {
        (x, 1e4)
    } else {
        (t.as_str(), 1.0)
    };
    let num = if num.contains(',') {
        let int = num
            .trim_start_matches(['-', '+'])
            .split(['.', 'e', 'E'])
            .next()
            .unwrap_or("");
        let groups: Vec<&str> = int.split(',').collect();
        let grouped = !num.split(['.', 'e', 'E']).skip(1).any(|x| x.contains(','))
            && (1..=3).contains(&groups[0].len())
            && groups[1..].iter().all(|g| g.len() == 3)
            && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()));
        if !grouped {
            return Err(format!(
                "`{shown}`: a comma may only separate thousands (groups of 3 digits, as in \"1,500万\"); write a decimal point for a fraction, e.g. \"{}\"",
                shown.trim().replace(',', ".")
            ));
        }
        num.replace(',', "")
    } else {
        num.to_string()
    };
    let v: f64 = num
        .parse()
        .map_err(|_| format!("`{shown}` is not an amount"))?;
    let v = v * mult;
    if v.is_nan() {
        return Err(format!("`{shown}` is not an amount"));
    }
    if v.is_infinite() {
        return Err(format!("`{shown}` is too large for a number"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_chinese_units() {
        assert_eq!(parse_amount("3亿"), Some(3e8));
        assert_eq!(parse_amount("300万"), Some(3e6));
        assert_eq!(parse_amount("1.5亿元"), Some(1.5e8));
        assert_eq!(parse_amount("3e8"), Some(3e8));
        assert_eq!(parse_amount("lots"), None);
        assert_eq!(parse_amount("1,500万"), Some(1.5e7));
        assert_eq!(parse_amount("12,345,678"), Some(12_345_678.0));
        assert_eq!(parse_amount("1,234.5"), Some(1234.5));
    }

    #[test]
    fn commas_are_thousands_separators_only() {
        for bad in [
            "1,5亿", "1,50万", "1234,567", ",500", "1,,500", "1.5,00", "1e1,000",
        ] {
            let e = amount(bad).unwrap_err();
            assert!(e.contains("thousands"), "{bad}: {e}");
        }
        assert!(amount("1,5亿").unwrap_err().contains("\"1.5亿\""));
    }

    #[test]
    fn overflowing_amounts_are_too_large_not_unreadable() {
        assert!(amount("1e400").unwrap_err().contains("too large"));
        assert!(amount("1e305亿").unwrap_err().contains("too large"));
        assert!(amount("lots").unwrap_err().contains("not an amount"));
        assert!(amount("NaN").unwrap_err().contains("not an amount"));
    }
}
