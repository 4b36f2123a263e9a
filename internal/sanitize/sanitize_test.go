package sanitize

import "testing"

func TestLine(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain ASCII", "HTTP 500: model failed", "HTTP 500: model failed"},
		{"UTF-8 kept", "modèle échoué: 模型 ✓ 👍", "modèle échoué: 模型 ✓ 👍"},
		{"backslash kept", `C:\models\yolo`, `C:\models\yolo`},
		{"title change", "\x1b]0;pwned\x07rest", `\x1b]0;pwned\arest`},
		{"colour", "\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"newline forges a line", "ok\nPASS: all good", `ok\nPASS: all good`},
		{"carriage return overwrites", "bad\rgood", `bad\rgood`},
		{"tab", "a\tb", `a\tb`},
		{"NUL and DEL", "a\x00b\x7fc", `a\x00b\x7fc`},
		{"C1 CSI", "a\u009b31mb", `a\u009b31mb`},
		{"C1 NEL", "a\u0085b", `a\u0085b`},
		{"bidi override", "abc\u202edcba", `abc\u202edcba`},
		{"bidi isolate", "\u2066x\u2069", `\u2066x\u2069`},
		{"line separator", "a\u2028b", `a\u2028b`},
		{"invalid UTF-8", "a\xffb\xc3", `a\xffb\xc3`},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Line(tt.in); got != tt.want {
				t.Errorf("Line(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLines(t *testing.T) {
	tests := []struct{ in, want string }{
		{"one\ntwo\tthree", "one\ntwo\tthree"},
		{"one\n\x1b[2Jtwo\r", "one\n\\x1b[2Jtwo\\r"},
	}
	for _, tt := range tests {
		if got := Lines(tt.in); got != tt.want {
			t.Errorf("Lines(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMarkdown(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "HTTP 500: model failed", "HTTP 500: model failed"},
		{"script", "<script>alert(1)</script>", "&lt;script>alert(1)&lt;/script>"},
		{"img onerror", `<img src=x onerror="alert(1)">`, `&lt;img src=x onerror="alert(1)">`},
		{"comment", "<!-- x -->", `&lt;!-- x -->`},
		{"autolink", "<http://x>", "&lt;http://x>"},
		{"comparisons kept", "p99 <= 50ms, < 2x, <5%, a > b", "p99 <= 50ms, < 2x, <5%, a > b"},
		{"quote at the start", "> quoted", "&gt; quoted"},
		{"entity", "a &amp; b &#60; c & d", "a &amp;amp; b &amp;#60; c & d"},
		{"table pipe", "a|b", `a\|b`},
		{"emphasis and code", "*x* _y_ `z` ~~w~~", "\\*x\\* \\_y\\_ \\`z\\` \\~\\~w\\~\\~"},
		{"link and image", "a [a](http://x) ![i](y)", `a [a\](http://x) ![i\](y)`},
		{"reference", "[r]: http://x", `\[r]: http://x`},
		{"brackets kept", "boxes [2], levels [c=1 c=3]", "boxes [2], levels [c=1 c=3]"},
		{"heading", "# big", `\# big`},
		{"list", "- item", `\- item`},
		{"dash kept", "-", "-"},
		{"negative kept", "-5 ms", "-5 ms"},
		{"hash kept", "step #2", "step #2"},
		{"backslash", `a\b`, `a\\b`},
		{"control quoted then escaped", "a\nb\x1b", `a\\nb\\x1b`},
		{"UTF-8 kept", "modèle ✓", "modèle ✓"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Markdown(tt.in); got != tt.want {
				t.Errorf("Markdown(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
