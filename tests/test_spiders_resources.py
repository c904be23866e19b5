"""spiders.resources: srcset candidates by the HTML standard's syntax and CSS url()/@import, on literal inputs."""

import pytest

from spiders.resources import css_urls, srcset_urls


@pytest.mark.parametrize(("srcset", "urls"), [
    pytest.param("a.jpg", ["a.jpg"], id="one-url-no-descriptor"),
    pytest.param("a.jpg 1x, b.jpg 2x", ["a.jpg", "b.jpg"], id="densities"),
    pytest.param("a.jpg 480w, b.jpg 960w", ["a.jpg", "b.jpg"], id="widths"),
    pytest.param("a.jpg 1x,b.jpg 2x", ["a.jpg", "b.jpg"], id="no-space-after-the-comma"),
    pytest.param("  \n a.jpg   1.5x ,\t b.jpg 2x  ", ["a.jpg", "b.jpg"], id="whitespace-everywhere"),
    pytest.param("/img/a,b.jpg 1x, /img/c.jpg 2x", ["/img/a,b.jpg", "/img/c.jpg"], id="comma-inside-a-url"),
    pytest.param("a.jpg,b.jpg", ["a.jpg,b.jpg"], id="commas-without-whitespace-are-one-url"),
    pytest.param("a.jpg, b.jpg", ["a.jpg", "b.jpg"], id="trailing-comma-ends-a-url"),
    pytest.param("a.jpg,,, b.jpg", ["a.jpg", "b.jpg"], id="several-trailing-commas"),
    pytest.param(",, a.jpg 1x", ["a.jpg"], id="leading-commas"),
    pytest.param("data:image/png;base64,iVBOR= 1x, b.jpg 2x", ["data:image/png;base64,iVBOR=", "b.jpg"],
                 id="data-url-with-a-comma"),
    pytest.param("a.jpg 100w 50h, b.jpg 200w", ["a.jpg", "b.jpg"], id="width-and-height"),
    pytest.param("a.jpg 100w (x, y), b.jpg 2x", ["b.jpg"], id="parenthesis-keep-their-comma-and-drop-the-candidate"),
    pytest.param("a.jpg 100px, b.jpg 2x", ["b.jpg"], id="unknown-descriptor-drops-the-candidate"),
    pytest.param("a.jpg 1x 2x, b.jpg", ["b.jpg"], id="two-densities-drop-the-candidate"),
    pytest.param("a.jpg 50h, b.jpg", ["b.jpg"], id="height-without-width-drops-the-candidate"),
    pytest.param("a.jpg 0w, b.jpg -1x, c.jpg 0x", ["c.jpg"], id="zero-width-and-negative-density-are-invalid"),
    pytest.param("", [], id="empty"),
    pytest.param(" , , ", [], id="only-separators"),
])
def test_srcset_urls(srcset: str, urls: list[str]) -> None:
    assert list(srcset_urls(srcset)) == urls


@pytest.mark.parametrize(("css", "urls"), [
    pytest.param("background:url(a.png)", ["a.png"], id="bare"),
    pytest.param("background:url('a.png')", ["a.png"], id="single-quotes"),
    pytest.param('background:url("a b.png")', ["a b.png"], id="double-quotes-keep-spaces"),
    pytest.param("background: URL( a.png ) no-repeat", ["a.png"], id="upper-case-and-spaces"),
    pytest.param("background:url(a.png), url('b.png')", ["a.png", "b.png"], id="two-in-one-declaration"),
    pytest.param('@import "x.css"; @import \'y.css\' screen;', ["x.css", "y.css"], id="import-strings"),
    pytest.param("@import url(x.css);", ["x.css"], id="import-url"),
    pytest.param("/* .a{background:url(old.png)} */ .b{background:url(new.png)}", ["new.png"],
                 id="comments-are-skipped"),
    pytest.param("/* unclosed url(old.png)", [], id="unclosed-comment"),
    pytest.param("background:url()", [], id="empty-url"),
    pytest.param("background:url(data:image/png;base64,AAA=)", ["data:image/png;base64,AAA="], id="data-kept-for-caller"),
    pytest.param("filter:url(#blur)", ["#blur"], id="fragment-kept-for-caller"),
    pytest.param("background-image:myurl(a.png)", [], id="only-the-url-function"),
])
def test_css_urls(css: str, urls: list[str]) -> None:
    assert list(css_urls(css)) == urls
