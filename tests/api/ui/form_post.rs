//! Posting the editor form as a browser without JavaScript would: every input the page holds,
//! with the one button pressed.

use super::Browser;

/// The inputs a browser would submit from the editor form in `html`: text inputs and hidden
/// inputs with their values, checked checkboxes, each select's selected (else first) option,
/// textareas. Buttons are left out: the caller adds the one it presses.
pub fn form_inputs(html: &str) -> Vec<(String, String)> {
    let start = html.find("class=\"editor\"").expect("the editor form");
    let form = &html[start..html[start..].find("</form>").unwrap() + start];
    let mut inputs = Vec::new();
    let mut rest = form;
    while let Some(at) = rest.find('<') {
        rest = &rest[at..];
        let tag_end = rest.find('>').unwrap();
        let tag = &rest[..=tag_end];
        let name = attribute(tag, "name");
        if let (true, Some(name)) = (tag.starts_with("<input"), &name) {
            let kind = attribute(tag, "type").unwrap_or_default();
            let checked = tag.contains(" checked");
            if kind != "checkbox" || checked {
                let value = attribute(tag, "value").unwrap_or_else(|| "on".into());
                inputs.push((name.clone(), value));
            }
        } else if tag.starts_with("<textarea") {
            let end = rest.find("</textarea>").unwrap();
            inputs.push((name.unwrap(), unescape(&rest[tag_end + 1..end])));
        } else if tag.starts_with("<select") {
            let end = rest.find("</select>").unwrap();
            let options = &rest[tag_end + 1..end];
            let chosen = options
                .split("<option")
                .skip(1)
                .find(|o| o.contains(" selected"))
                .or_else(|| options.split("<option").nth(1))
                .map(|o| attribute(&format!("<option{o}"), "value").unwrap_or_default());
            if let Some(value) = chosen {
                inputs.push((name.unwrap(), value));
            }
        }
        rest = &rest[1..];
    }
    inputs
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

pub fn unescape(text: &str) -> String {
    text.replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// Posts the form in `html` with one button pressed and `changes` applied over its inputs.
pub async fn press(
    browser: &Browser,
    path: &str,
    html: &str,
    button: &str,
    changes: &[(&str, &str)],
) -> reqwest::Response {
    let mut inputs = form_inputs(html);
    for (name, value) in changes {
        match inputs.iter_mut().find(|(n, _)| n == name) {
            Some(input) => input.1 = value.to_string(),
            None => inputs.push((name.to_string(), value.to_string())),
        }
    }
    inputs.push(("op".into(), button.into()));
    let pairs: Vec<(&str, &str)> = inputs
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    browser.post(path, &pairs).await
}

pub async fn ok_html(response: reqwest::Response) -> String {
    let status = response.status();
    let html = response.text().await.unwrap();
    assert_eq!(status, 200, "{html}");
    html
}
