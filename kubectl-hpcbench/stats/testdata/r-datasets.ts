/**
 * Data sets that ship with R (package `datasets`), copied value for value, so the tests can check our
 * statistics against the output that R's documentation and textbooks print for them.
 */

/** `sleep`: extra hours of sleep of 10 patients under drug 1 and drug 2 (Cushny & Peebles, Student 1908). */
export const sleep = {
  group1: [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0],
  group2: [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4],
};

/** `PlantGrowth`: dried weight of plants under a control and two treatments (Dobson 1983). */
export const plantGrowth = {
  ctrl: [4.17, 5.58, 5.18, 6.11, 4.5, 4.61, 5.17, 4.53, 5.33, 5.14],
  trt1: [4.81, 4.17, 4.41, 3.59, 5.87, 3.83, 6.03, 4.89, 4.32, 4.69],
  trt2: [6.31, 5.12, 5.54, 5.5, 5.37, 5.29, 4.92, 6.15, 5.8, 5.26],
};

/** `airquality$Ozone` by Month (New York, May to September 1973), missing values removed (116 of 153 days). */
export const airqualityOzoneByMonth = {
  may: [41, 36, 12, 18, 28, 23, 19, 8, 7, 16, 11, 14, 18, 14, 34, 6, 30, 11, 1, 11, 4, 32, 23, 45, 115, 37],
  june: [29, 71, 39, 23, 21, 37, 20, 12, 13],
  july: [
    135, 49, 32, 64, 40, 77, 97, 97, 85, 10, 27, 7, 48, 35, 61, 79, 63, 16, 80, 108, 20, 52, 82, 50, 64, 59,
  ],
  august: [
    39, 9, 16, 78, 35, 66, 122, 89, 110, 44, 28, 65, 22, 59, 23, 31, 44, 21, 9, 45, 168, 73, 76, 118, 84, 85,
  ],
  september: [
    96, 78, 73, 91, 47, 32, 20, 23, 21, 24, 44, 21, 28, 9, 13, 46, 18, 13, 24, 16, 13, 23, 36, 7, 14, 30, 14,
    18, 20,
  ],
};

/** `mtcars$mpg` split by `am` (0 automatic, 1 manual), in the data set's row order (Motor Trend 1974). */
export const mtcarsMpgByTransmission = {
  automatic: [
    21.4, 18.7, 18.1, 14.3, 24.4, 22.8, 19.2, 17.8, 16.4, 17.3, 15.2, 10.4, 10.4, 14.7, 21.5, 15.5, 15.2,
    13.3, 19.2,
  ],
  manual: [21.0, 21.0, 22.8, 32.4, 30.4, 33.9, 27.3, 26.0, 30.4, 15.8, 19.7, 15.0, 21.4],
};
