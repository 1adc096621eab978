// Remembers the theme for a year in a cookie the server reads before rendering, and shows it on <html> at once.
export function rememberTheme(cookieName, theme) {
    document.cookie = `${cookieName}=${theme}; path=/; max-age=31536000; samesite=lax`;
    document.documentElement.dataset.theme = theme;
}
