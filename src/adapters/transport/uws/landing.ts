/** The small page served at `GET /`. */
export const LANDING_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Parsec server</title></head>
<body>
<h1>Parsec server</h1>
<p>This is a Parsec server. Use a Parsec client to connect to it.</p>
</body>
</html>
`;
