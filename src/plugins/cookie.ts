/**
 * The magic cookie (after hashicorp/go-plugin): the host sets it in the plugin's
 * environment so that a plugin started by hand can tell, and say how to run it
 * instead of waiting forever on stdin. Not a security feature.
 * Changing the key or value breaks every plugin written against it.
 */
export const MAGIC_COOKIE_KEY = 'WFRELOAD_PLUGIN_MAGIC_COOKIE';
export const MAGIC_COOKIE_VALUE = 'f3c1a4b0-wfreload-plugin-protocol-1';

/** The only protocol version this host speaks. */
export const PROTOCOL_VERSION = 1;
